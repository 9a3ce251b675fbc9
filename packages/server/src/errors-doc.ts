import { catalogue, type ErrorDefinition } from './errors.js';

/**
 * Renders docs/errors.md from the catalogue. `npm run docs:errors` rewrites the file; errors.test.ts fails when the
 * committed file has drifted from the catalogue.
 */
export function renderErrorsDoc(): string {
  const rows = Object.values(catalogue as Record<string, ErrorDefinition>).map(
    (e) =>
      `| \`${e.code}\` | ${e.status} | ${e.template.replace(/%s/g, '…').replace(/\|/g, '\\|')} | ${e.deviceCode ?? ''} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error the API returns is JSON `{ "code": "...", "message": "..." }` (sometimes with `details`), with one of',
    'these stable codes. Messages may improve; codes never change meaning. The last column is the normalized upgrade',
    'error a device reports when it meets the error (e.g. an expired download URL).',
    '',
    'Generated from `packages/server/src/errors.ts` by `npm run docs:errors`; a test fails when this file drifts.',
    '',
    '| code | HTTP | message | device error |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('errors-doc.ts')) process.stdout.write(renderErrorsDoc());
