/**
 * The fake Slack's file uploads, as Slack's files.uploadV2 flow does them (and @slack/web-api's
 * `filesUploadV2` calls them): `files.getUploadURLExternal` (filename and byte length) answers an
 * upload URL and a file id; the bytes are POSTed to that URL (raw, or as multipart form data, as the
 * SDK sends them), which answers `OK - <bytes>`; `files.completeUploadExternal` (files as JSON
 * `[{ id, title }]`, optional `channel_id` and `initial_comment`) finishes them and shares them into
 * the channel as a message with `files`. A file never uploaded, or one completed twice, is
 * `file_not_found`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FakeSlackFile {
  id: string;
  filename: string;
  title: string;
  /** The length declared in files.getUploadURLExternal. */
  declaredLength: number;
  /** What was POSTed to the upload URL (undefined until then). */
  content?: Buffer;
  completed: boolean;
  /** Channels it was shared into on completion. */
  channels: string[];
  initialComment?: string;
}

type Args = Record<string, unknown>;
type Result = Record<string, unknown> & { ok: boolean };

const fail = (error: string): Result => ({ ok: false, error });

export class FakeSlackFiles {
  private files = new Map<string, FakeSlackFile>();
  private uploadUrls = new Map<string, string>();

  /** Every file, in the order asked for. */
  all(): FakeSlackFile[] {
    return [...this.files.values()];
  }

  /** Completed files shared into `channel`. */
  sharedIn(channel: string): FakeSlackFile[] {
    return this.all().filter((f) => f.completed && f.channels.includes(channel));
  }

  reset(): void {
    this.files = new Map();
    this.uploadUrls = new Map();
  }

  getUploadURLExternal(args: Args, baseUrl: string): Result {
    const filename = typeof args.filename === 'string' ? args.filename : '';
    const length = Number(args.length);
    if (filename === '')
      return {
        ...fail('invalid_arguments'),
        response_metadata: { messages: ['[ERROR] missing required field: filename'] },
      };
    if (!Number.isInteger(length) || length < 1) {
      return {
        ...fail('invalid_arguments'),
        response_metadata: { messages: ['[ERROR] missing required field: length'] },
      };
    }
    const id = `F${randomUUID().replaceAll('-', '').slice(0, 10).toUpperCase()}`;
    const key = randomUUID();
    this.files.set(id, {
      id,
      filename,
      title: filename,
      declaredLength: length,
      completed: false,
      channels: [],
    });
    this.uploadUrls.set(key, id);
    return { ok: true, upload_url: `${baseUrl}/upload/v1/${key}`, file_id: id };
  }

  /** The upload URL: takes the bytes once. */
  async receive(key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const id = this.uploadUrls.get(key);
    const file = id ? this.files.get(id) : undefined;
    if (req.method !== 'POST' || !file || file.content) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    let content = raw;
    const type = String(req.headers['content-type'] ?? '');
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
      const part = [...form.values()].find((v) => typeof v !== 'string');
      if (!part) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('no file in the form');
        return;
      }
      content = Buffer.from(await (part as Blob).arrayBuffer());
    }
    file.content = content;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${content.length}`);
  }

  /**
   * files.completeUploadExternal. `share` posts the message with the files into the channel (the
   * fake's own messages) and answers its id, or an error for a channel it cannot post in.
   */
  completeUploadExternal(
    args: Args,
    share: (channel: string, text: string, files: Args[]) => { id: string } | { error: string },
  ): Result {
    const list = typeof args.files === 'string' ? safeJson(args.files) : args.files;
    if (!Array.isArray(list) || list.length === 0) return fail('invalid_arguments');
    const files: FakeSlackFile[] = [];
    for (const entry of list) {
      const id = entry && typeof entry === 'object' ? (entry as Args).id : undefined;
      const file = typeof id === 'string' ? this.files.get(id) : undefined;
      if (!file?.content || file.completed) return fail('file_not_found');
      const title = (entry as Args).title;
      if (typeof title === 'string' && title !== '') file.title = title;
      files.push(file);
    }
    const publicFiles = files.map((f) => ({
      id: f.id,
      name: f.filename,
      title: f.title,
      size: f.content?.length ?? 0,
      mimetype: f.filename.endsWith('.csv') ? 'text/csv' : 'application/octet-stream',
    }));
    const channel = typeof args.channel_id === 'string' ? args.channel_id : undefined;
    const comment = typeof args.initial_comment === 'string' ? args.initial_comment : '';
    if (channel) {
      const shared = share(channel, comment, publicFiles);
      if ('error' in shared) return fail(shared.error);
    }
    for (const file of files) {
      file.completed = true;
      if (channel) file.channels.push(channel);
      if (comment) file.initialComment = comment;
    }
    return { ok: true, files: publicFiles };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
