import { Type } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const StrategySchema = Type.Object(
  {
    startAt: Type.Optional(Type.Integer({ description: 'epoch ms; the job is scheduled until then' })),
    endAt: Type.Optional(Type.Integer({ description: 'epoch ms; devices not told by then are cancelled' })),
    maxPerMinute: Type.Optional(Type.Integer({ minimum: 1, description: 'new devices told per minute' })),
    maxInFlight: Type.Optional(
      Type.Integer({ minimum: 1, description: 'devices told and not finished at once' }),
    ),
    deviceTimeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 1, description: 'no progress for this long = timed out' }),
    ),
    retries: Type.Optional(
      Type.Object({ count: Type.Optional(Type.Integer()), delaySeconds: Type.Optional(Type.Integer()) }),
    ),
    abort: Type.Optional(
      Type.Object({
        failurePercent: Type.Number({ description: 'abort when failed/finished exceeds this' }),
        minFinished: Type.Integer({ description: '…once at least this many finished' }),
      }),
    ),
    groups: Type.Optional(
      Type.Array(
        Type.Object({
          percent: Type.Number({ description: 'cumulative share of the devices' }),
          successThreshold: Type.Number({
            description: 'percent of the group that must succeed before the next starts',
          }),
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const TargetsSchema = Type.Object(
  {
    deviceNames: Type.Optional(Type.Array(Type.String())),
    sourceVersions: Type.Optional(Type.Array(Type.String())),
    tags: Type.Optional(Type.Array(Type.String())),
    percent: Type.Optional(
      Type.Number({ description: 'random share (gray release), deterministic per job' }),
    ),
  },
  { additionalProperties: false },
);

export const JobSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  name: Type.String(),
  productKey: Type.String(),
  firmwareId: Type.Integer(),
  module: Type.String(),
  targetVersion: Type.String(),
  state: Type.String(),
  targets: Type.Unknown(),
  sourceVersions: Type.Array(Type.String()),
  strategy: Type.Unknown(),
  dynamic: Type.Boolean(),
  allowUnverified: Type.Boolean(),
  supersede: Type.Boolean(),
  parentJobId: Type.Union([Type.Integer(), Type.Null()]),
  currentGroup: Type.Integer(),
  selected: Type.Integer(),
  skipped: Type.Integer({ description: 'devices already on the target version' }),
  conflicts: Type.Integer({ description: 'devices left out: another active upgrade of the module' }),
  reason: Nullable(Type.String()),
  createdAt: Type.Integer(),
  startedAt: Type.Union([Type.Integer(), Type.Null()]),
  finishedAt: Type.Union([Type.Integer(), Type.Null()]),
});

const StateCounts = Type.Record(Type.String(), Type.Integer());

export const JobDetailSchema = Type.Intersect([
  JobSchema,
  Type.Object({
    counts: StateCounts,
    tabs: StateCounts,
    total: Type.Integer(),
    successRate: Type.Union([Type.Number(), Type.Null()]),
    throughputPerMinute: Type.Number(),
    eta: Type.Union([Type.Integer(), Type.Null()]),
  }),
]);

export const UpgradeSchema = Type.Object({
  id: Type.Integer(),
  jobId: Type.Integer(),
  deviceId: Type.Integer(),
  module: Type.String(),
  targetVersion: Type.String(),
  sourceVersion: Nullable(Type.String()),
  state: Type.String(),
  phase: Nullable(Type.String()),
  percent: Type.Union([Type.Integer(), Type.Null()]),
  errorCode: Nullable(Type.String()),
  errorMessage: Nullable(Type.String()),
  attempt: Type.Integer(),
  groupIndex: Type.Integer(),
  queuedAt: Type.Integer(),
  notifiedAt: Type.Union([Type.Integer(), Type.Null()]),
  lastActivityAt: Type.Integer(),
  finishedAt: Type.Union([Type.Integer(), Type.Null()]),
  retryAt: Type.Union([Type.Integer(), Type.Null()]),
});

export const UpgradeRowSchema = Type.Intersect([
  UpgradeSchema,
  Type.Object({ deviceName: Type.String(), currentVersion: Nullable(Type.String()) }),
]);

export const TransitionSchema = Type.Object({
  id: Type.Integer(),
  fromState: Nullable(Type.String()),
  toState: Type.String(),
  phase: Nullable(Type.String()),
  percent: Type.Union([Type.Integer(), Type.Null()]),
  errorCode: Nullable(Type.String()),
  message: Nullable(Type.String()),
  at: Type.Integer(),
});
