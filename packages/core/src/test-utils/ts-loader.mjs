// Lets a plain `node` child process import luzts's TypeScript sources (tests only):
//   node --conditions=@luzts/source --import <this file> child.mjs
// `@luzts/*` imports then resolve to `src/*.ts` (the `@luzts/source` export condition); `.ts` files
// are transpiled with TypeScript's transpileModule (types erased, no type check), cached on disk.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
