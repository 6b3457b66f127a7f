import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** From package.json, one directory above both src/ and dist/, so the version is written in one place. */
export const VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
