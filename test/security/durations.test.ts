/**
 * Threat: a duration that is negative, zero, enormous or not ISO-8601, written in the policy file
 * or typed into the form's custom amount (or its unit edited to one the form never offered).
 * Expected refusal: the policy file does not load, with the key and the reason; the form shows an
 * inline error on the custom duration and nothing is stored or sent. Enormous durations are
 * refused (at most 366 days, src/domain/duration.ts MAX_DURATION_MS): unbounded, P1000000Y made an
 * end time JavaScript cannot represent (an Invalid Date), which this suite found and fixed.
 * The same amounts typed into the Teams form are refused on its card, with the same words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FormInput } from '../../src/bot/teams/request-form-data.js';
import { addDuration } from '../../src/domain/duration.js';
import { ConfigError, parseAccessConfig } from '../../src/domain/policy.js';
import { eventually, openForm, settle, submitForm, waitForDm } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { type Card, TeamsChat, textsOf } from '../support/teams-client.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';
import { blockOf, submitTampered, useSystem } from './support.js';

const { alice, carol } = USERS;

function policyIssues(policy: unknown): string[] {
  try {
    parseAccessConfig({ resources: [{ id: 'a', name: 'A', approvers: ['x@example.com'], policy }] });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('durations in the policy file', () => {
  const notIso = (v: string) => `"${v}" is not a positive ISO-8601 duration (e.g. PT4H, P1D, P1W)`;
  it.each([
    ['negative', '-PT1H', notIso('-PT1H')],
    ['negative in a component', 'PT-1H', notIso('PT-1H')],
    ['zero', 'PT0S', notIso('PT0S')],
    ['zero days', 'P0D', notIso('P0D')],
    ['not ISO-8601', '4h', notIso('4h')],
    ['a word', 'forever', notIso('forever')],
    ['enormous', 'P1000000Y', '"P1000000Y" is longer than the longest duration allowed (366 days)'],
    ['just over a year', 'P367D', '"P367D" is longer than the longest duration allowed (366 days)'],
  ])('refuses a %s duration (%s) wherever a duration is written, naming the key', (_what, value, message) => {
    expect(policyIssues({ durations: [value] })).toEqual([`resources[0].policy.durations[0]: ${message}`]);
    expect(policyIssues({ approvalWindow: value })).toEqual([
      `resources[0].policy.approvalWindow: ${message}`,
    ]);
    expect(policyIssues({ custom: { max: value } })).toEqual([`resources[0].policy.custom.max: ${message}`]);
    expect(policyIssues({ remindBefore: value })).toEqual([`resources[0].policy.remindBefore: ${message}`]);
  });

  it('refuses a number where a duration belongs', () => {
    expect(policyIssues({ durations: [3600] })).toEqual([
      'resources[0].policy.durations[0]: must be text or a mapping',
    ]);
    expect(policyIssues({ approvalWindow: 3600 })).toHaveLength(1);
  });

  it('accepts up to a year, and a year makes a representable end time', () => {
    expect(policyIssues({ durations: ['P1Y', 'P366D', 'PT1.5H'], custom: { max: 'P1Y' } })).toEqual([]);
    expect(Number.isNaN(addDuration(new Date('2026-12-03T00:00:00Z'), 'P1Y').getTime())).toBe(false);
    expect(() => addDuration(new Date(), 'P1000000Y')).toThrow(/longer than the longest duration/);
  });
});

/** Custom amounts (in days) and the error each gets; acme-prod allows 1 hour up to 3 days. */
const TYPED_AMOUNTS: Array<[string, string]> = [
  ['-3', 'Enter a whole number greater than 0.'],
  ['0', 'Enter a whole number greater than 0.'],
  ['1.5', 'Enter a whole number greater than 0.'],
  ['1e3', 'Enter a whole number greater than 0.'],
  ['PT4H', 'Enter a whole number greater than 0.'],
  ['٣', 'Enter a whole number greater than 0.'],
  ['99999999999999999999', 'Enter a whole number greater than 0.'],
  ['9007199254740991', 'Enter a duration of at most 366 days.'],
  ['367', 'Enter a duration of at most 366 days.'],
  ['4', 'Choose a duration between 1 hour and 3 days.'],
];

describe('durations typed into the form', () => {
  const sys = useSystem();

  it('shows an inline error for a negative, zero, fractional, enormous or non-numeric custom amount, and sends nothing', async () => {
    const t = sys();
    const view = await openForm(t, carol, 'acme-prod');
    const mark = t.fake.checkpoint();
    const base = { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Long migration' };
    const field = blockOf(view, 'jit.form.custom_amount');
    for (const [amount, message] of TYPED_AMOUNTS) {
      const res = await submitForm(t, carol, view, {
        ...base,
        'jit.form.custom_amount': amount,
        'jit.form.custom_unit': 'day',
      });
      expect(res.body, amount).toEqual({ response_action: 'errors', errors: { [field]: message } });
    }
    await settle(200);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });

  it('reads a unit the form never offered (years, seconds) from an edited submission as hours', async () => {
    const t = sys();
    for (const unit of ['year', 'second', 'P1000Y']) {
      const view = await openForm(t, carol, 'acme-prod');
      const unitBlock = blockOf(view, 'jit.form.custom_unit');
      const res = await submitTampered(
        t,
        carol,
        view,
        {
          'jit.form.approvers': [alice.email],
          'jit.form.justification': unit,
          'jit.form.custom_amount': '2',
        },
        (state) => {
          state[unitBlock] = {
            'jit.form.custom_unit': {
              type: 'static_select',
              selected_option: { text: { type: 'plain_text', text: unit }, value: unit },
            },
          };
        },
      );
      expect(res.status).toBe(200);
      const request = await eventually(async () => {
        const all = await t.store.repos.requests.list({ requesterEmail: carol.email });
        const mine = all.find((r) => r.justification === unit);
        expect(mine?.duration).toBe('PT2H');
        return mine!;
      });
      // Cancelled, so the next attempt is not refused as a second open request.
      await t.slack.blockAction({
        userId: carol.id,
        actionId: 'jit.request.cancel',
        message: await waitForDm(t, carol, 'was sent to'),
        value: request.id,
      });
      await eventually(async () =>
        expect((await t.store.repos.requests.get(request.id))?.status).toBe('cancelled'),
      );
    }
  });
});

describe('durations typed into the Teams form', () => {
  let teams: TeamsTestSystem | undefined;
  afterEach(async () => {
    await teams?.close();
    teams = undefined;
  });

  it('refuses the same negative, zero, fractional, enormous or non-numeric amounts on the card, and sends nothing', async () => {
    const tom = teamsUser('tom', 'Tom Teams', 'UTC');
    teams = await startTeamsSystem({
      users: [tom],
      policy: `
resources:
  - id: acme-prod
    name: Acme prod
    approvers: [alice@example.com]
    requesters: [tom@example.com]
    policy: { custom: { min: PT1H, max: P3D } }
    connector: { type: log }
`,
    });
    const { t } = teams;
    const chat = new TeamsChat(teams.connector, teams.botUrl, tom);
    const { id } = await chat.open('request access acme-prod');
    for (const [amount, message] of TYPED_AMOUNTS) {
      const res = await chat.press(id, 'Send request', {
        [FormInput.approvers]: alice.email,
        [FormInput.justification]: 'Long migration',
        [FormInput.customAmount]: amount,
        [FormInput.customUnit]: 'day',
      });
      const texts = textsOf(res.card as Card);
      expect(texts, amount).toContain(message);
      expect(texts[0], amount).not.toBe('Request sent');
    }
    await settle(200);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(0);
  });
});
