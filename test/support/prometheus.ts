/**
 * Problems in a Prometheus text exposition (format 0.0.4), as a scraper would meet them: lines
 * that do not parse, a TYPE given twice, samples of no declared family, the same series twice.
 * An empty list means the text is well-formed.
 */
export function expositionProblems(text: string): string[] {
  const problems: string[] = [];
  const types = new Map<string, string>();
  const series = new Set<string>();
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const LABELS = /^(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*$/;
  const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)( -?\d+)?$/;
  const VALUE = /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]?Inf)$/;
  text.split('\n').forEach((line, i) => {
    const at = `line ${i + 1}`;
    if (line === '') return;
    if (line.startsWith('# HELP ')) {
      if (!NAME.test(line.split(' ')[2] ?? '')) problems.push(`${at}: HELP of a bad name`);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (types.has(name)) problems.push(`${at}: TYPE ${name} given twice`);
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)) problems.push(`${at}: type ${type}`);
      types.set(name, type);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m || !LABELS.test(m[2] ?? '') || !VALUE.test(m[3])) return void problems.push(`${at}: unparsable`);
    const name = m[1];
    const family = [name, name.replace(/_(bucket|sum|count)$/, ''), name.replace(/_total$/, '')].find((f) =>
      types.has(f),
    );
    if (!family) problems.push(`${at}: ${name} has no TYPE`);
    const key = `${name}{${m[2] ?? ''}}`;
    if (series.has(key)) problems.push(`${at}: series ${key} twice`);
    series.add(key);
  });
  return problems;
}
