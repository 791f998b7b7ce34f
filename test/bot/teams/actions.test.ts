/** Every button a neutral view can carry has a Universal Action handler in Teams. */
import { describe, expect, it } from 'vitest';
import { CARD_VERBS, DenyFormVerb } from '../../../src/bot/teams/actions.js';
import { ActionId } from '../../../src/domain/views/model.js';

describe('Teams card verbs', () => {
  it('answers every neutral action id, and the deny form’s send and back', () => {
    expect([...CARD_VERBS].sort()).toEqual(
      [...Object.values(ActionId), DenyFormVerb.submit, DenyFormVerb.back].sort(),
    );
  });
});
