/**
 * Every card the bot can send in Teams, parsed by Microsoft's `adaptivecards` library with no
 * parse error, no validation failure and no unknown element, action or property (see
 * test/support/adaptive-cards.ts for how "unknown" is found). The cards come from the real
 * renderer (src/bot/teams/cards.ts) fed with every neutral view the core builds, in every state.
 */
import { describe, expect, it } from 'vitest';
import { renderCard } from '../../../src/bot/teams/cards.js';
import type { AccessRequest, Grant } from '../../../src/domain/model.js';
import {
  approvalCard,
  autoApprovedNotice,
  connectorFailing,
  decisionNotice,
  extendedNotice,
  grantStatus,
  reminder,
  requesterStatus,
  unreachableNotice,
} from '../../../src/domain/views/messages.js';
import type { MessageView } from '../../../src/domain/views/model.js';
import { requestPrompt } from '../../../src/domain/views/request-prompt.js';
import { adaptiveCardProblems } from '../../support/adaptive-cards.js';

const now = new Date('2026-11-23T09:00:00Z');
const viewer = { tz: 'Europe/Berlin', now };
const resource = { id: 'prod-db', name: 'Production database' };
const nameOf = (email: string) => (email === 'meganb@example.com' ? 'Megan Bowen' : email);

const request: AccessRequest = {
  id: 'req-1',
  kind: 'access',
  resourceId: 'prod-db',
  requester: { email: 'alexw@example.com', name: 'Alex Wilber', tz: 'Europe/Berlin' },
  approvers: ['meganb@example.com', 'adelev@example.com'],
  duration: 'PT4H',
  // Typed text with everything markup could make of it.
  justification: 'Incident *#42* <at>Megan</at> [click](https://evil.example) _now_',
  ticket: 'INC-42',
  approval: 'manual',
  status: 'pending',
  createdAt: now,
  decideBy: new Date('2026-11-23T10:00:00Z'),
  submissionKey: 'k1',
};
const decided = (status: AccessRequest['status'], extra: Partial<AccessRequest> = {}): AccessRequest => ({
  ...request,
  status,
  decidedAt: new Date('2026-11-23T09:05:00Z'),
  decidedBy: status === 'expired' ? 'system' : 'meganb@example.com',
  decidedByName: 'Megan Bowen',
  ...extra,
});
const extension: AccessRequest = {
  ...request,
  id: 'req-2',
  kind: 'extension',
  grantId: 'g1',
  duration: 'PT1H',
};

const grant: Grant = {
  id: 'g1',
  requestId: 'req-1',
  resourceId: 'prod-db',
  holder: { email: 'alexw@example.com', name: 'Alex Wilber' },
  duration: 'PT4H',
  justification: request.justification,
  status: 'active',
  createdAt: now,
  startsAt: now,
  expiresAt: new Date('2026-11-23T13:00:00Z'),
  attempts: 0,
};

/** Every message view the bot sends, by a name that says which. */
const EVERY_VIEW: Array<[string, MessageView]> = [
  ['approval card, pending', approvalCard(request, resource, viewer)],
  ['approval card, approved', approvalCard(decided('approved'), resource, viewer)],
  [
    'approval card, denied with a reason',
    approvalCard(decided('denied', { reason: 'Not *now*' }), resource, viewer),
  ],
  ['approval card, expired', approvalCard(decided('expired'), resource, viewer)],
  [
    'approval card, cancelled',
    approvalCard(decided('cancelled', { reason: 'No longer needed' }), resource, viewer),
  ],
  ['approval card, extension pending', approvalCard(extension, resource, viewer)],
  ['requester status, pending (Cancel request)', requesterStatus(request, resource, viewer, nameOf)],
  ['requester status, approved', requesterStatus(decided('approved'), resource, viewer, nameOf)],
  [
    'requester status, denied',
    requesterStatus(decided('denied', { reason: 'no' }), resource, viewer, nameOf),
  ],
  [
    'requester status, expired (Request again)',
    requesterStatus(decided('expired'), resource, viewer, nameOf),
  ],
  ['requester status, cancelled', requesterStatus(decided('cancelled'), resource, viewer, nameOf)],
  ['requester status, extension pending', requesterStatus(extension, resource, viewer, nameOf)],
  [
    'unreachable approvers, nobody reached',
    unreachableNotice(
      { request, resource, unreachable: ['meganb@example.com'], nobody: true, platforms: ['Slack', 'Teams'] },
      nameOf,
    ),
  ],
  [
    'unreachable approver, others have it',
    unreachableNotice(
      {
        request: decided('approved'),
        resource,
        unreachable: ['adelev@example.com'],
        nobody: false,
        delivered: true,
        platforms: ['Teams'],
      },
      nameOf,
    ),
  ],
  ['request link prompt (where the form card cannot be sent: Request access)', requestPrompt(resource)],
  ['decision notice', decisionNotice(decided('denied', { reason: 'no' }), resource, viewer)],
  ['auto-approved notice', autoApprovedNotice(decided('approved', { approval: 'auto' }), resource, viewer)],
  ['grant active (End access now)', grantStatus(grant, resource, viewer, nameOf)],
  ['grant provisioning', grantStatus({ ...grant, status: 'provisioning' }, resource, viewer, nameOf)],
  ['grant revoking', grantStatus({ ...grant, status: 'revoking' }, resource, viewer, nameOf)],
  [
    'grant expired',
    grantStatus(
      { ...grant, status: 'expired', endReason: 'expired', endedAt: now },
      resource,
      viewer,
      nameOf,
    ),
  ],
  [
    'grant revoked by an administrator',
    grantStatus(
      {
        ...grant,
        status: 'revoked',
        endReason: 'revoked-by-admin',
        endedBy: 'adelev@example.com',
        endedAt: now,
      },
      resource,
      viewer,
      nameOf,
    ),
  ],
  ['reminder with Request extension', reminder(grant, resource, viewer, true)],
  ['reminder, extensions turned off', reminder(grant, resource, viewer, false)],
  ['extension granted', extendedNotice(grant, resource, viewer)],
  [
    'connector failing, retried',
    connectorFailing(
      { ...grant, status: 'provisioning', attempts: 3, lastError: 'HTTP 503', nextAttemptAt: now },
      resource,
      'provision',
      viewer,
    ),
  ],
  [
    'connector refused the removal',
    connectorFailing({ ...grant, status: 'revoking', lastError: 'HTTP 403' }, resource, 'revoke', viewer),
  ],
];

describe('every card the bot sends in Teams parses strictly with the adaptivecards library', () => {
  it.each(EVERY_VIEW)('%s', (_name, view) => {
    const card = renderCard(view);
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it('covers the buttons of every state: approve, deny, cancel, request again, extend, end access, request access (a request link)', () => {
    const verbs = new Set(EVERY_VIEW.flatMap(([, view]) => (view.actions ?? []).map((a) => a.id)));
    expect([...verbs].sort()).toEqual(
      [
        'jit.grant.end',
        'jit.grant.extend',
        'jit.request.again',
        'jit.request.approve',
        'jit.request.cancel',
        'jit.request.deny',
        'jit.request.resource',
      ].sort(),
    );
  });
});

describe('the strict check itself', () => {
  const clean = renderCard(EVERY_VIEW[0]![1]);

  it('reports an element type Adaptive Cards does not have', () => {
    const card = { ...clean, body: [...clean.body, { type: 'Marquee', text: 'hi' }] };
    expect(adaptiveCardProblems(card).join('\n')).toMatch(/Unknown element type "Marquee"/);
  });

  it('reports a property the element does not have', () => {
    const card = { ...clean, body: [{ type: 'TextBlock', text: 'hi', colour: 'Red' }] };
    expect(adaptiveCardProblems(card)).toEqual([
      'card.body[0].colour: not a known property (dropped by the parser)',
    ]);
  });

  it('reports a value outside the property’s allowed values', () => {
    const card = { ...clean, body: [{ type: 'TextBlock', text: 'hi', size: 'Huge' }] };
    expect(adaptiveCardProblems(card).length).toBeGreaterThan(0);
  });

  it('reports an action type Adaptive Cards does not have', () => {
    const card = { ...clean, actions: [{ type: 'Action.Teleport', title: 'Go' }] };
    expect(adaptiveCardProblems(card).join('\n')).toMatch(/Action\.Teleport/);
  });

  it('accepts a property that holds its default, which the parser leaves out', () => {
    const card = {
      ...clean,
      body: [{ type: 'Input.ChoiceSet', id: 'x', style: 'compact', choices: [{ title: 'A', value: 'a' }] }],
    };
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it('accepts Teams’ Data.Query type-ahead on a menu, and reports it anywhere else or malformed', () => {
    const menu = {
      type: 'Input.ChoiceSet',
      id: 'x',
      style: 'filtered',
      choices: [{ title: 'A', value: 'a' }],
      'choices.data': { type: 'Data.Query', dataset: 'resources' },
    };
    expect(adaptiveCardProblems({ ...clean, body: [menu] })).toEqual([]);
    expect(
      adaptiveCardProblems({ ...clean, body: [{ ...menu, 'choices.data': { type: 'Data.Query' } }] }),
    ).toEqual(['card.body[0].choices.data: not a Data.Query: {"type":"Data.Query"}']);
    expect(
      adaptiveCardProblems({
        ...clean,
        body: [{ type: 'TextBlock', text: 'x', 'choices.data': { type: 'Data.Query', dataset: 'd' } }],
      }),
    ).toEqual(['card.body[0].choices.data: only an Input.ChoiceSet may have it']);
  });
});
