/** The fake Slack's files.uploadV2 flow answers as Slack does, for the SDK and for raw calls. */
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from './fake-slack.js';

const user = { id: 'UBOB', name: 'bob', realName: 'Bob', email: 'bob@example.com', tz: 'UTC' };

let fake: FakeSlack;
let client: WebClient;
beforeEach(async () => {
  fake = await startFakeSlack({ users: [user] });
  client = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
});
afterEach(async () => {
  await fake.close();
});

const call = (method: string, args: Record<string, string>) =>
  client.apiCall(method, args).catch((e) => e.data);

describe('fake Slack: file uploads', () => {
  it('takes a file through filesUploadV2 and shares it into the DM with the comment', async () => {
    const channel = fake.dmChannelFor(user.id);
    const result = await client.filesUploadV2({
      channel_id: channel,
      filename: 'r.csv',
      title: 'Report',
      content: 'a,b\r\n1,2\r\n',
      initial_comment: 'Here it is',
    });
    expect(result.ok).toBe(true);
    const [file] = fake.files.sharedIn(channel);
    expect(file).toMatchObject({ filename: 'r.csv', title: 'Report', completed: true, declaredLength: 10 });
    expect(file?.content?.toString()).toBe('a,b\r\n1,2\r\n');
    expect(fake.messagesIn(channel).at(-1)).toMatchObject({
      text: 'Here it is',
      files: [{ id: file?.id, name: 'r.csv' }],
    });
  });

  it('takes raw bytes at the upload URL once, and refuses to complete what was never uploaded', async () => {
    const missing = await call('files.getUploadURLExternal', { filename: 'x.csv' });
    expect(missing).toMatchObject({ ok: false, error: 'invalid_arguments' });
    const got = (await client.apiCall('files.getUploadURLExternal', {
      filename: 'x.csv',
      length: '3',
    })) as unknown as {
      upload_url: string;
      file_id: string;
    };
    const files = JSON.stringify([{ id: got.file_id, title: 'X' }]);
    expect(await call('files.completeUploadExternal', { files })).toMatchObject({ error: 'file_not_found' });
    const upload = await fetch(got.upload_url, { method: 'POST', body: 'abc' });
    expect(await upload.text()).toBe('OK - 3');
    expect((await fetch(got.upload_url, { method: 'POST', body: 'abc' })).status).toBe(404);
    expect(await call('files.completeUploadExternal', { files, channel_id: 'CNOPE' })).toMatchObject({
      error: 'channel_not_found',
    });
    expect(await call('files.completeUploadExternal', { files })).toMatchObject({
      ok: true,
      files: [{ id: got.file_id }],
    });
    expect(await call('files.completeUploadExternal', { files })).toMatchObject({ error: 'file_not_found' });
    expect(await call('files.completeUploadExternal', {})).toMatchObject({ error: 'invalid_arguments' });
  });
});
