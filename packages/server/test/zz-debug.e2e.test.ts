import { it } from 'vitest';
import { startTestServer } from '../src/testing/test-server.js';
import { createFleet, createJob, waitForJob, jobUpgrades, waitForTasks, settle } from './jobs-fixture.js';
it('debug', async () => {
  const t = await startTestServer({ overrides: { engineTickMs: 50, logLevel: 'error' } });
    const f = await createFleet(t, { dialect: 'iothub', count: 12 });
    await f.bringOnline();
    const job = await createJob(t, 'batch', { firmwareId: f.firmware.id, allowUnverified: true, strategy: {
      groups: [
        { percent: 50, successThreshold: 100 },
        { percent: 100, successThreshold: 100 },
      ],
    }});
    await waitForJob(t, job.id, (j) => j.selected === 12, 'all selected');
    const upgrades = await jobUpgrades(t, job.id);
    const inGroup = (g: number) =>
      upgrades.filter((u) => u.groupIndex === g).map((u) => f.device(u.deviceName));
    const [first, second] = [inGroup(0), inGroup(1)];
    console.log(first.length, second.length);
    await Promise.all(first.map((d) => waitForTasks(d)));
    await Promise.all(first.slice(1).map((d) => d.upgradeTo('2.0.0')));
    await settle(500);
    console.log(JSON.stringify(await t.api('GET', `/api/v1/jobs/${job.id}`)).slice(0, 3000));
  await f.close();
  await t.close();
});
