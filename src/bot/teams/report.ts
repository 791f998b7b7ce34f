/**
 * "access report [resource | group | user email] [since <date>]" in the personal chat: Teams takes
 * no upload from a bot without a file-consent round, so the answer is a card with a short-lived
 * signed link to the bot's own server (src/core/reports/links.ts, `GET /reports/access.csv`), which
 * builds the CSV afresh as the person who asked, with only what they may see. The query is checked
 * here first, so a mistake is said at once rather than in a download.
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { parseReportQuery } from '../../core/reports/access-report.js';
import { REPORT_LINK_TTL_MS } from '../../core/reports/links.js';
import { isDomainError } from '../../domain/errors.js';
import type { Person } from '../../domain/model.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, renderCard } from './cards.js';
import { reply, type TeamsFormDeps, UNKNOWN_PERSON, viewerOf } from './request-form.js';

export const ACCESS_REPORT = 'access report';

/** The signed download link of `person`'s report of `query` (the system's `reportLink`). */
export type ReportLink = (person: Person, query: string) => string;

export interface TeamsReportDeps extends TeamsFormDeps {
  reportLink: ReportLink;
}

/** Answers "access report …" with the download card; false for any other activity. */
export async function handleReport(
  context: TurnContext,
  deps: TeamsReportDeps,
  command: { command: string; words: string } | null,
): Promise<boolean> {
  const activity = context.activity;
  if (activity.type !== ActivityTypes.Message || activity.conversation?.conversationType !== 'personal')
    return false;
  if (command?.command !== ACCESS_REPORT) return false;
  const who = await deps.identity.of(context);
  if (!who) {
    await reply(context, UNKNOWN_PERSON);
    return true;
  }
  const person = await viewerOf(context, deps, who);
  try {
    parseReportQuery(deps.service, command.words, person.tz ?? 'UTC');
  } catch (error) {
    if (!isDomainError(error)) throw error;
    await reply(context, error.message);
    return true;
  }
  const url = deps.reportLink(person, command.words);
  const minutes = Math.round(REPORT_LINK_TTL_MS / 60_000);
  const scope = command.words ? `“${command.words}”` : 'every grant you may see';
  const card = renderCard({
    text: 'Your access report is ready',
    title: 'Access report',
    lines: [
      `A CSV of ${scope}: one row per grant you may see.`,
      `The link works for ${minutes} minutes; whoever holds it can download the file, so do not pass it on. Ask again for a fresh one.`,
    ],
  });
  card.actions = [{ type: 'Action.OpenUrl', title: 'Download CSV', url }];
  await context.sendActivity({
    type: ActivityTypes.Message,
    summary: 'Access report',
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
  });
  return true;
}
