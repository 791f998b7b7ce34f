/**
 * `GET /reports/access.csv?token=…`: the access report behind a short-lived signed link
 * (src/core/reports/links.ts), built afresh as the person who asked. A missing, forged or expired
 * token gets 403 and nothing else.
 */
import { buildAccessReport } from '../core/reports/access-report.js';
import { REPORT_DOWNLOAD_PATH, type ReportLinks } from '../core/reports/links.js';
import { isDomainError } from '../domain/errors.js';
import type { AccessService } from '../domain/service.js';
import type { Route } from './server.js';

export function reportDownloadRoute(service: AccessService, links: ReportLinks): Route {
  return {
    method: 'GET',
    path: REPORT_DOWNLOAD_PATH,
    handler: async (req, res) => {
      const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? '';
      const claims = links.verify(token);
      const text = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end(body);
      };
      if (!claims) return text(403, 'This link has expired or is not valid. Ask for the report again.');
      const person = { email: claims.email, name: claims.name, ...(claims.tz ? { tz: claims.tz } : {}) };
      try {
        const file = await buildAccessReport(service, person, claims.query);
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8; header=present',
          'content-disposition': `attachment; filename="${file.filename}"`,
          'cache-control': 'no-store',
        });
        res.end(file.csv);
      } catch (error) {
        if (isDomainError(error)) return text(400, error.message);
        throw error;
      }
    },
  };
}
