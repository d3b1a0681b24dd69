// The return after maintenance, small: 100 open forms (visible, hidden, on the maintenance page)
// type during a maintenance, and after `holdfast maintenance end` every one is back to "Saved",
// no page saw an error answer, and the server holds every form's last typed values. Counts
// only, never timings: the figures come from return.js run large (docs/benchmarks.md).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backends } from '../browser/server.js';
import { describe, run } from './return.js';

const FORMS = Number(process.env.RETURN_FORMS ?? 100);

for (const backend of backends()) {
  test(`${backend}: ${FORMS} open forms are all saved after the maintenance, none lost`, { timeout: 90000 }, async () => {
    const result = await run({
      forms: FORMS,
      postgres: backend === 'postgres' ? process.env.HOLDFAST_TEST_POSTGRES_URL : undefined,
      typingSeconds: 3,
      timeoutSeconds: 40,
    });
    const story = describe(result);
    assert.equal(result.onMaintenancePage, result.kinds['maintenance page'].forms, `every reloaded form showed the maintenance page\n${story}`);
    assert.equal(result.all.saved, FORMS, `every form is back to 'saved'\n${story}`);
    assert.equal(result.errors, 0, `no error answer\n${story}`);
    assert.equal(result.lost, 0, `no answer lost\n${story}`);
    assert.equal(result.reportChangesLost, 0, `the maintenance report lost nothing\n${story}`);
  });
}
