import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

// Prints the slowest tests beside their timeout at the end of a run, so a test creeping towards
// its limit shows long before a slow moment on a loaded machine turns it red. A test that used
// more than half of its timeout is named as a warning: split it, or give it a longer limit.
class Headroom implements Reporter {
  private runs: { title: string; ms: number; timeout: number }[] = [];

  onTestEnd(test: TestCase, result: TestResult) {
    if (result.status === 'skipped') return;
    this.runs.push({ title: test.titlePath().filter(Boolean).join(' › '), ms: result.duration, timeout: test.timeout });
  }

  onEnd(_: FullResult) {
    const slowest = [...this.runs].sort((a, b) => b.ms / b.timeout - a.ms / a.timeout);
    const line = (r: (typeof slowest)[number]) =>
      `${(r.ms / 1000).toFixed(1)} s of ${r.timeout / 1000} s (${Math.round((100 * r.ms) / r.timeout)}%): ${r.title}`;
    console.log(`headroom: the slowest of ${this.runs.length} tests`);
    for (const r of slowest.slice(0, 5)) console.log(`headroom:   ${line(r)}`);
    for (const r of slowest.filter((r) => r.ms > r.timeout / 2)) console.log(`headroom: WARNING past half its timeout: ${line(r)}`);
  }
}

export default Headroom;
