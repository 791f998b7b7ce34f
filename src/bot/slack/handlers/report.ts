/**
 * `/access-report`: the report is built once in the core (src/core/reports) and uploaded as a CSV
 * file into the person's direct message with the bot (files.uploadV2: files.getUploadURLExternal,
 * the upload itself, files.completeUploadExternal). The person is waiting for it, like a form, so it
 * is sent at once rather than through the outbox; a failure is told to them.
 */
import { buildAccessReport, reportSummary } from '../../../core/reports/access-report.js';
import type { Person } from '../../../domain/model.js';
import type { SlackDeps } from '../deps.js';

export async function sendAccessReport(
  deps: SlackDeps,
  person: Person,
  userId: string,
  text: string,
): Promise<void> {
  const file = await buildAccessReport(deps.service, person, text);
  const opened = await deps.client.conversations.open({ users: userId });
  const channel = opened.channel?.id;
  if (!channel) throw new Error('conversations.open gave no channel');
  await deps.client.filesUploadV2({
    channel_id: channel,
    filename: file.filename,
    title: file.title,
    content: file.csv,
    initial_comment: reportSummary(file),
  });
  deps.log.info({ rows: file.rows, truncated: file.truncated }, 'report.sent');
}
