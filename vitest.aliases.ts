import { fileURLToPath } from 'node:url';

/** Tests import sibling packages from their TypeScript sources, so nothing needs building before `npm test`. */
export const workspaceAliases = Object.fromEntries(
  ['protocol', 'server', 'device', 'cli'].map((name) => [
    `@aloft/${name}`,
    fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
  ]),
);
