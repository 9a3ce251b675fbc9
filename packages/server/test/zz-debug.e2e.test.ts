import { it } from 'vitest';
import { startTestServer } from '../src/testing/test-server.js';
import { createFleet, createJob, jobDetail } from './jobs-fixture.js';

it('debug', async () => {
  const t = await startTestServer({ overrides: { engineTickMs: 50, logLevel: 'warn' } });
  const f = await createFleet(t, { dialect: 'aliyun', count: 2 });
  const job = await createJob(t, 'batch', { firmwareId: f.firmware.id, allowUnverified: true });
  await new Promise((r) => setTimeout(r, 500));
  console.log(await jobDetail(t, job.id));
  await t.close();
});
