/**
 * The Teams form cards, parsed strictly by the `adaptivecards` library like every other card
 * (./card-schema.test.ts): the request form in each of its shapes (a menu of resources, type-ahead
 * over a large catalog with `Data.Query`, an extension of one resource, nothing to request; as it
 * opens, with field errors, with a duration chosen and a summary) and the deny form with its reason.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderFormCard as renderSmallForm } from '../../../src/bot/teams/form-view-card.js';
import { renderFormCard } from '../../../src/bot/teams/request-form-card.js';
import { buildForm, emptyState, type FormState, type Viewer } from '../../../src/core/forms/request-form.js';
import type { AccessRequest } from '../../../src/domain/model.js';
import type { AccessService } from '../../../src/domain/service.js';
import { denyForm } from '../../../src/domain/views/forms.js';
import { largeCatalog } from '../../core/large-catalog.js';
import { adaptiveCardProblems } from '../../support/adaptive-cards.js';
import { startMemoryDomain } from '../../support/domain.js';

const names = async (emails: string[]) => new Map(emails.map((e) => [e, e.split('@')[0] ?? e]));
const wire = { kind: 'access' as const, formId: 'form-0001-abcdef' };
const alex: Viewer = { email: 'alexw@example.com', name: 'Alex Wilber', tz: 'Europe/Berlin' };
const nobody: Viewer = { email: 'isaiahl@example.com', name: 'Isaiah Langer' };

let playground: AccessService;
let large: AccessService;

beforeAll(async () => {
  playground = (await startMemoryDomain(readFileSync('playground/access.yaml', 'utf8'))).service;
  large = (await startMemoryDomain(largeCatalog({ resources: 2000, groups: 40, panel: 150 }).yaml)).service;
});

async function formCard(service: AccessService, viewer: Viewer, state: FormState, extra = {}) {
  const model = await buildForm(service, viewer, state, names, extra);
  return renderFormCard(
    model,
    { ...wire, ...(state.resourceId ? { resourceId: state.resourceId } : {}) },
    {
      resources: [{ label: 'First page', value: 'x' }],
      approvers: [{ label: 'First page', value: 'a@example.com' }],
    },
  );
}

describe('the Teams form cards parse strictly with the adaptivecards library', () => {
  it('the request form as it opens, with a menu of resources', async () => {
    expect(adaptiveCardProblems(await formCard(playground, alex, emptyState()))).toEqual([]);
  });

  it('the request form with a resource, approvers, a quick duration, a justification and a summary', async () => {
    const card = await formCard(playground, alex, {
      ...emptyState(),
      resourceId: 'demo-db',
      approvers: ['meganb@example.com'],
      quick: 'PT2M',
      justification: 'Investigate *INC-42*',
      ticket: 'INC-42',
    });
    expect(JSON.stringify(card)).toContain('✓ 2 minutes');
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it('the request form with a custom duration and every field error', async () => {
    const card = await formCard(
      playground,
      alex,
      { ...emptyState(), resourceId: 'staging', customAmount: '3', customUnit: 'day' },
      {
        notice: 'Nothing was sent yet: fix what is marked below, then send again.',
        errors: {
          resource: 'Choose a resource.',
          approvers: 'Choose at least one approver.',
          duration: 'At most 1 day.',
          justification: 'Say why you need access.',
          ticket: 'Too long.',
        },
      },
    );
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it('the request form over a large catalog: type-ahead menus with Data.Query and a first page', async () => {
    const bob: Viewer = { email: 'bob@example.com', name: 'Bob' };
    const opened = await formCard(large, bob, emptyState());
    expect(JSON.stringify(opened)).toContain('Data.Query');
    expect(adaptiveCardProblems(opened)).toEqual([]);
    const first = large.requestableResources(bob.email)[0];
    const chosen = await formCard(large, bob, { ...emptyState(), resourceId: first?.id });
    expect(adaptiveCardProblems(chosen)).toEqual([]);
  });

  it('the request form of someone who may request nothing', async () => {
    expect(adaptiveCardProblems(await formCard(playground, nobody, emptyState()))).toEqual([]);
  });

  it('the request form of an extension', async () => {
    const card = await formCard(playground, alex, { ...emptyState('extension'), grantId: 'g-unknown' });
    expect(adaptiveCardProblems(card)).toEqual([]);
  });

  it('the deny form, with its optional reason', () => {
    const request = {
      id: 'req-1',
      requester: { email: 'alexw@example.com', name: 'Alex Wilber' },
    } as AccessRequest;
    const card = renderSmallForm(denyForm(request, { id: 'demo-db', name: 'Demo database' }), {
      submit: 'jit.request.deny.submit',
      close: 'jit.request.deny.back',
      data: { value: 'req-1' },
      style: 'destructive',
    });
    expect(adaptiveCardProblems(card)).toEqual([]);
  });
});
