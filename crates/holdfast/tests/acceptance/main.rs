//! Holdfast's acceptance suite: a real server on a real socket over a real database, driven
//! over HTTP as a person (without JavaScript) and an operator would. Every test runs on the
//! embedded SQLite store and on PostgreSQL.

// A test that meets the unexpected should stop right there and say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admin_api;
mod bad_input;
mod cli;
mod crash;
mod maintenance;
mod merge;
mod openapi;
mod versions;
mod walkthrough;
