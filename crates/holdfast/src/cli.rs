//! The command line: `holdfast serve` and the operator commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use holdfast_server::Environment;

/// Holdfast: digital processes that never lose an answer.
#[derive(Debug, Parser)]
#[command(name = "holdfast", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the platform.
    Serve(ServeArgs),
    /// Customer organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Process definitions.
    #[command(subcommand)]
    Process(ProcessCommand),
    /// Submissions.
    #[command(subcommand)]
    Submissions(SubmissionsCommand),
    /// Maintenance: schedule, announce, run and account for it.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
    /// Webhooks: organisations' endpoints for maintenance events, and the delivery log.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

/// `holdfast serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory: the embedded database and the bootstrap admin token.
    #[arg(
        long = "data",
        env = "HOLDFAST_DATA",
        default_value = "./holdfast-data"
    )]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "HOLDFAST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database URL (postgres://user@host/db); embedded SQLite in the data directory if absent.
    #[arg(long, env = "HOLDFAST_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// The environment this deployment serves.
    #[arg(long, env = "HOLDFAST_ENVIRONMENT", default_value = "production", value_parser = parse_environment)]
    pub environment: Environment,
    /// This deployment's region.
    #[arg(long, env = "HOLDFAST_REGION", default_value = "local")]
    pub region: String,
    /// All of the platform's regions, comma-separated (default: just --region).
    #[arg(long, env = "HOLDFAST_REGIONS", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Also create the organisation `demo` with the example motor-claim process.
    #[arg(long)]
    pub demo: bool,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "HOLDFAST_BODY_LIMIT", default_value_t = holdfast_server::config::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// The URL people reach this deployment at (for links); default http://LISTEN.
    #[arg(long, env = "HOLDFAST_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The longest maintenance window a plan may schedule (for example 12h, 90m).
    #[arg(long, env = "HOLDFAST_MAX_WINDOW", default_value = "12h", value_parser = parse_duration_ms)]
    pub max_window: i64,
    /// How long before a maintenance window the banner appears (for example 72h).
    #[arg(long, env = "HOLDFAST_BANNER_LEAD", default_value = "72h", value_parser = parse_duration_ms)]
    pub banner_lead: i64,
    /// How many times a webhook delivery is attempted before it counts as failed.
    #[arg(long, env = "HOLDFAST_WEBHOOK_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub webhook_max_attempts: u32,
    /// How long a webhook endpoint has to answer (for example 10s).
    #[arg(long, env = "HOLDFAST_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_duration_ms)]
    pub webhook_timeout: i64,
}

/// Parses a duration such as `12h`, `90m` or `2h 30m` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let duration: jiff::SignedDuration = s
        .parse()
        .map_err(|error| format!("{s:?} is not a duration such as 12h, 90m or 2h30m: {error}"))?;
    if duration.is_negative() || duration.is_zero() {
        return Err(format!("{s:?}: the duration must be positive"));
    }
    i64::try_from(duration.as_millis()).map_err(|_| format!("{s:?} is too long"))
}

fn parse_environment(s: &str) -> Result<Environment, String> {
    s.parse()
}

/// How the operator commands reach a deployment.
#[derive(Debug, Args, Clone)]
pub struct Remote {
    /// The deployment's URL.
    #[arg(long, env = "HOLDFAST_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Admin token (default: read from --token-file).
    #[arg(long, env = "HOLDFAST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// File holding the admin token, used when --token is not given.
    #[arg(
        long,
        env = "HOLDFAST_TOKEN_FILE",
        default_value = "./holdfast-data/admin-token"
    )]
    pub token_file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `holdfast org …`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        /// URL name: lowercase letters, digits and hyphens.
        slug: String,
        /// Home region (default: the deployment's region).
        #[arg(long)]
        region: Option<String>,
        /// Display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        remote: Remote,
    },
}

/// `holdfast process …`.
#[derive(Debug, Subcommand)]
pub enum ProcessCommand {
    /// Publish a definition file (YAML or JSON) as a new version.
    Publish {
        /// The definition file.
        file: PathBuf,
        /// The organisation.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// List an organisation's processes.
    List {
        /// The organisation.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// List a process's versions.
    Versions {
        /// The process.
        process: String,
        /// The organisation.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// One row per submission, one column per field.
    Csv,
}

/// `holdfast submissions …`.
#[derive(Debug, Subcommand)]
pub enum SubmissionsCommand {
    /// Export a process's submissions to standard output (or --output).
    Export {
        /// The organisation.
        #[arg(long)]
        org: String,
        /// The process.
        #[arg(long)]
        process: String,
        /// The format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Notice formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NoticeFormat {
    /// Markdown.
    Markdown,
    /// An HTML document.
    Html,
}

/// `holdfast maintenance …`.
#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Schedule a plan file (YAML or JSON; see docs/maintenance-plan.md).
    Schedule {
        /// The plan file.
        plan: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
    /// List plans and their phases.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Show a plan (p3) or a window (w7) with its history.
    Show {
        /// A plan id (p3) or window id (w7).
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Cancel a plan's remaining phases (p3) or one window (w7).
    Cancel {
        /// A plan id (p3) or window id (w7).
        id: String,
        /// What people are told.
        #[arg(long)]
        message: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Render the customer notice of a plan file, or of a scheduled plan (p3).
    Notice {
        /// A plan file, or a scheduled plan's id.
        plan: String,
        /// Also give each phase's time in these IANA time zones (repeatable or comma-separated).
        #[arg(long, value_delimiter = ',')]
        tz: Vec<String>,
        /// The format.
        #[arg(long, value_enum, default_value = "markdown")]
        format: NoticeFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Begin a window's downtime (drains first); without a window, an unscheduled downtime of
    /// the deployment this talks to.
    Begin {
        /// The window (w7); none for unscheduled maintenance.
        window: Option<String>,
        /// Unscheduled: how long it is expected to last, in minutes (default 30).
        #[arg(long)]
        minutes: Option<i64>,
        /// Unscheduled: what people are told.
        #[arg(long)]
        message: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// End a downtime: the window's, or the one covering this deployment.
    End {
        /// The window (w7).
        window: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Report what a downtime really cost (the window's latest, or the latest of all).
    Report {
        /// The window (w7) or downtime (d2).
        window: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Propose off-peak windows from the recorded activity per hour of the week.
    Suggest {
        /// production or development.
        #[arg(long)]
        environment: String,
        /// The region.
        #[arg(long)]
        region: String,
        /// How long the window is (for example 2h).
        #[arg(long)]
        duration: String,
        /// Weeks of history to learn from.
        #[arg(long, default_value_t = 4)]
        weeks: i64,
        /// How many windows to propose.
        #[arg(long, default_value_t = 3)]
        count: usize,
        #[command(flatten)]
        remote: Remote,
    },
}

/// `holdfast webhook …`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; prints its signing secret (shown this once).
    Add {
        /// Where events are posted (http:// or https://).
        url: String,
        /// The organisation.
        #[arg(long)]
        org: String,
        /// The signing secret (32 to 256 characters); generated (256 bits) if left out.
        #[arg(long, env = "HOLDFAST_WEBHOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// List an organisation's endpoints.
    List {
        /// The organisation.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Remove an endpoint (wh3); what it was still owed is cancelled.
    Remove {
        /// The endpoint's id (wh3).
        id: String,
        /// The organisation.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The delivery log: the newest deliveries to an organisation's endpoints, with every
    /// attempt.
    Deliveries {
        /// The organisation.
        #[arg(long)]
        org: String,
        /// How many deliveries (newest first).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        remote: Remote,
    },
}
