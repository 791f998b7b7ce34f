import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectText, findElement } from '../support/fake-slack.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

describe('the /request-access form', () => {
  it('opens with the named resource preselected and only its eligible approvers, never the requester', async () => {
    const res = await t.slack.slashCommand({
      command: '/request-access',
      text: 'acme-prod',
      userId: USERS.carol.id,
    });
    expect(res.status).toBe(200);
    const open = await t.fake.waitFor('views.open');
    expect(open.response.ok).toBe(true);
    const view = open.args.view as { blocks: unknown[] };
    const text = collectText(view.blocks);
    expect(text).toContain('Alice Approver (alice@example.com)');
    expect(text).toContain('Dave Reviewer (dave@example.com)');
    expect(text).not.toContain('carol@example.com');
    for (const label of ['4 hours', '8 hours', '1 day', '3 days', '1 week']) expect(text).toContain(label);
    expect(text).toContain('Investigate Reported Issue');
    expect(findElement(view.blocks as never, 'jit.form.resource')?.element).toMatchObject({
      initial_option: { value: 'acme-prod' },
    });
  });
});
