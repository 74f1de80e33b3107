import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where each suite leaves its figures; test/support/report-reporter.js turns them into test/REPORT.md. */
export const REPORT_DATA_DIR = join(__dirname, '..', '.report');

export interface ReportFragment {
  id: string;
  title: string;
  file: string;
  finishedAt: string;
  cases: string[];
  faults: string[];
  requests: Record<string, number>;
  errors: Record<string, number>;
  figures: Record<string, string | number>;
  notes: string[];
}

/**
 * Figures of one security or resilience suite for test/REPORT.md: the cases it tried, the faults
 * it injected, the requests it made (by kind) and the errors it saw (by kind, intended refusals
 * are requests, not errors). Written in afterAll; the jest reporter assembles the report.
 */
export class SuiteReport {
  private readonly data: ReportFragment;

  constructor(id: string, title: string, file: string) {
    this.data = {
      id,
      title,
      file,
      finishedAt: '',
      cases: [],
      faults: [],
      requests: {},
      errors: {},
      figures: {},
      notes: [],
    };
  }

  case(name: string): void {
    if (!this.data.cases.includes(name)) this.data.cases.push(name);
  }

  fault(description: string): void {
    this.data.faults.push(description);
  }

  requests(kind: string, n = 1): void {
    this.data.requests[kind] = (this.data.requests[kind] ?? 0) + n;
  }

  error(kind: string, n = 1): void {
    this.data.errors[kind] = (this.data.errors[kind] ?? 0) + n;
  }

  figure(name: string, value: string | number): void {
    this.data.figures[name] = value;
  }

  note(text: string): void {
    this.data.notes.push(text);
  }

  write(): void {
    this.data.finishedAt = new Date().toISOString();
    mkdirSync(REPORT_DATA_DIR, { recursive: true });
    const target = join(REPORT_DATA_DIR, `${this.data.id.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2));
    renameSync(tmp, target);
  }
}
