/**
 * The families of `files:` alone: whether each file could be read, why not, and how many files
 * each entry found. A file's chain goes in the same families as a target's (target-families.ts).
 */
import type { FileSourceReport } from '../results/file-result';
import { familyHeader, line, type Format, type MetricType } from './exposition';

interface FileFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  lines(report: FileSourceReport): string;
}

const FILE_FAMILIES: readonly FileFamily[] = [
  {
    name: 'certexp_files_matched', type: 'gauge',
    help: 'Existing certificate files a files: entry names or matches; 0 is an empty mount or a glob that matches nothing.',
    lines: (r) => line('certexp_files_matched', [['source', r.source]], r.matched),
  },
  {
    name: 'certexp_file_glob_errors_total', type: 'counter', help: 'Passes whose globs could not be expanded in full, by reason.',
    lines: (r) => [...r.globErrors].map(([reason, n]) => line('certexp_file_glob_errors_total', [['source', r.source], ['reason', reason]], n)).join(''),
  },
  {
    name: 'certexp_file_read_success', type: 'gauge', help: 'Whether the last pass got certificates out of the file.',
    lines: (r) => r.files.map(({ result }) => line('certexp_file_read_success', [['source', r.source], ['file', result.file]], result.failure === undefined ? 1 : 0)).join(''),
  },
  {
    name: 'certexp_file_read_errors_total', type: 'counter', help: 'Passes that got no certificates out of the file, by reason.',
    lines: (r) => r.files.map(({ result, readErrors }) => [...readErrors]
      .map(([reason, n]) => line('certexp_file_read_errors_total', [['source', r.source], ['file', result.file], ['reason', reason]], n)).join('')).join(''),
  },
];

export function renderFileFamilies(reports: readonly FileSourceReport[], format: Format): string {
  return FILE_FAMILIES.map((family) => familyHeader(family.name, family.help, family.type, format) + reports.map((r) => family.lines(r)).join('')).join('');
}
