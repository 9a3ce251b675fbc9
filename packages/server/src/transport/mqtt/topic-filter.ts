/** MQTT topic filter matching (`+` one level, `#` the rest), per MQTT 3.1.1 §4.7. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i < t.length || i === t.length;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether a client may use `topic`: it must match one of the allowed filters. */
export function allowedBy(allowed: readonly string[], topic: string): boolean {
  return allowed.some((filter) => topicMatches(filter, topic));
}

/**
 * Whether a client may subscribe `requested`: every topic it could match must be allowed, so the requested filter
 * has to be one of the allowed filters or an instance of one (wildcards only where the allowed filter has them).
 */
export function subscriptionAllowed(allowed: readonly string[], requested: string): boolean {
  return allowed.some((filter) => filterCovers(filter, requested));
}

function filterCovers(filter: string, requested: string): boolean {
  const f = filter.split('/');
  const r = requested.split('/');
  for (let i = 0; i < r.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (level === undefined) return false;
    const want = r[i];
    if (want === '#') return false;
    if (level === '+') continue;
    if (want !== level) return false;
  }
  return f.length === r.length;
}
