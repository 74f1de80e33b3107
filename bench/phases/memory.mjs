/**
 * The memory rows: RSS idle and after the fixtures (taken by run.mjs and fixtures.mjs), and the
 * apps' peak RSS over the Portcullis phases (`memory.underLoad`, from the rows measured so far).
 */
export function memoryRows(b, memory) {
  const rows = b.rows;
  const appRss = (names) => {
    const out = {};
    for (const r of rows.filter((x) => x.group === 'portcullis'))
      for (const n of names) if (r.peakRssMb?.[n]) out[n] = Math.max(out[n] ?? 0, r.peakRssMb[n]);
    return out;
  };
  memory.underLoad = appRss(['auth-core', 'auth-core#2', 'gateway', 'gateway#2']);
  rows.push({
    id: 'pcl.memory.idle',
    group: 'portcullis',
    name: 'RSS idle (started, before any request), MB',
    rssMb: memory.idle,
    throughput: null,
  });
  rows.push({
    id: 'pcl.memory.fixtures',
    group: 'portcullis',
    name: 'RSS after the fixtures (10,000 tokens minted; quiet again), MB',
    rssMb: memory.afterFixtures,
    throughput: null,
  });
  rows.push({
    id: 'pcl.memory.load',
    group: 'portcullis',
    name: 'peak RSS over the Portcullis phases, MB',
    rssMb: memory.underLoad,
    throughput: null,
  });
}
