/**
 * Real services some tests need. Their URLs come from env vars; when one is unset the tests that need it are
 * skipped with a printed reason — except under CI=true, where a missing service is a failure.
 */
export interface ServiceRequirement {
  /** Env var holding the URL, e.g. ALOFT_TEST_POSTGRES_URL. */
  env: string;
  what: string;
}

export const POSTGRES: ServiceRequirement = { env: 'ALOFT_TEST_POSTGRES_URL', what: 'PostgreSQL' };
export const MOSQUITTO: ServiceRequirement = {
  env: 'ALOFT_TEST_MQTT_URL',
  what: 'an external MQTT broker (Mosquitto)',
};

const announced = new Set<string>();

/** The service URL, or undefined (with a printed reason) when the tests needing it should be skipped. */
export function serviceUrl(requirement: ServiceRequirement): string | undefined {
  const url = process.env[requirement.env];
  if (url) return url;
  if (process.env.CI === 'true') {
    throw new Error(`${requirement.env} is not set: CI must run the ${requirement.what} tests (see .ci/run)`);
  }
  if (!announced.has(requirement.env)) {
    announced.add(requirement.env);
    console.warn(`[aloft tests] skipping ${requirement.what} tests: set ${requirement.env} to run them`);
  }
  return undefined;
}
