/** Reads the server's Prometheus text at /metrics into `name{labels}` → value. */
export async function scrape(httpUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** Sum over every label set of one metric name. */
export function total(series: ReadonlyMap<string, number>, name: string): number {
  let sum = 0;
  for (const [key, value] of series) {
    if (key === name || key.startsWith(`${name}{`)) sum += value;
  }
  return sum;
}

/** The change of a metric between two scrapes. */
export function delta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, name: string) {
  return total(after, name) - total(before, name);
}
