/** storage.kubestash.com/v1alpha1 kinds (SPEC §3). */
import { Type, type Static } from '@sinclair/typebox';
import {
  conditionList,
  deletionPolicyValues,
  driverValues,
  ObjectReference,
  TypedObjectReference,
  UsagePolicy,
  workPhaseValues,
} from './common.js';
import { coreVolumeSourceProperties, RuntimeSettings } from './kubernetes.js';
import { dateTime, double, int32, int64, mapOf, stringEnum } from './schema-builders.js';
import { kindObject } from './kind-object.js';

const o = Type.Optional;
const str = () => Type.String();

// ---- BackupStorage ------------------------------------------------------------------------------------

export const storageProviderValues = ['local', 's3', 'gcs', 'azure'] as const;
export type StorageProvider = (typeof storageProviderValues)[number];

export const S3Spec = Type.Object({
  bucket: o(str()),
  endpoint: o(str()),
  insecureTLS: o(Type.Boolean()),
  maxConnections: o(int64()),
  prefix: o(str()),
  region: o(str()),
  secretName: o(str()),
});
export type S3Spec = Static<typeof S3Spec>;

export const GCSSpec = Type.Object({
  bucket: o(str()),
  maxConnections: o(int64()),
  prefix: o(str()),
  secretName: o(str()),
});
export type GCSSpec = Static<typeof GCSSpec>;

export const AzureSpec = Type.Object({
  container: o(str()),
  maxConnections: o(int64()),
  prefix: o(str()),
  secretName: o(str()),
  storageAccount: o(str()),
});
export type AzureSpec = Static<typeof AzureSpec>;

/** A local backend: any volume source plus where to mount it. */
export const LocalSpec = Type.Object({
  ...coreVolumeSourceProperties(),
  maxConnections: o(int64()),
  mountPath: o(str()),
  subPath: o(str()),
});
export type LocalSpec = Static<typeof LocalSpec>;

/** `provider` has no enum in the CRD; `storageProviderValues` lists the values KubeStash acts on. */
export const Backend = Type.Object({
  azure: o(AzureSpec),
  gcs: o(GCSSpec),
  local: o(LocalSpec),
  provider: o(str()),
  s3: o(S3Spec),
});
export type Backend = Static<typeof Backend>;

export const BackupStorageRepositoryStatus = Type.Object({
  error: o(str()),
  name: o(str()),
  namespace: o(str()),
  path: o(str()),
  size: o(str()),
  synced: o(Type.Boolean()),
});
export type BackupStorageRepositoryStatus = Static<typeof BackupStorageRepositoryStatus>;

export const BackupStorageSpec = Type.Object({
  default: o(Type.Boolean()),
  deletionPolicy: o(stringEnum(deletionPolicyValues, { default: 'Delete' })),
  runtimeSettings: o(RuntimeSettings),
  storage: o(Backend),
  usagePolicy: o(UsagePolicy),
});
export type BackupStorageSpec = Static<typeof BackupStorageSpec>;

export const BackupStorageStatus = Type.Object({
  conditions: o(conditionList()),
  phase: o(str()),
  repositories: o(Type.Array(BackupStorageRepositoryStatus)),
  totalSize: o(str()),
});
export type BackupStorageStatus = Static<typeof BackupStorageStatus>;

export const BackupStorageSchema = kindObject(BackupStorageSpec, BackupStorageStatus);
export type BackupStorage = Static<typeof BackupStorageSchema>;

// ---- Repository ---------------------------------------------------------------------------------------

export const repositoryPhaseValues = ['NotReady', 'Ready'] as const;
export type RepositoryPhase = (typeof repositoryPhaseValues)[number];

export const RepositorySpec = Type.Object({
  appRef: o(TypedObjectReference),
  deletionPolicy: o(stringEnum(deletionPolicyValues, { default: 'Delete' })),
  encryptionSecret: o(ObjectReference),
  path: o(str()),
  paused: o(Type.Boolean()),
  storageRef: o(ObjectReference),
});
export type RepositorySpec = Static<typeof RepositorySpec>;

export const SnapshotInfo = Type.Object({
  name: o(str()),
  phase: o(stringEnum(workPhaseValues)),
  session: o(str()),
  size: o(str()),
  snapshotTime: o(dateTime()),
});
export type SnapshotInfo = Static<typeof SnapshotInfo>;

export const RepositoryStatus = Type.Object({
  componentPaths: o(Type.Array(str())),
  conditions: o(conditionList()),
  integrity: o(Type.Boolean()),
  lastBackupTime: o(dateTime()),
  phase: o(stringEnum(repositoryPhaseValues)),
  recentSnapshots: o(Type.Array(SnapshotInfo)),
  size: o(str()),
  snapshotCount: o(int32()),
});
export type RepositoryStatus = Static<typeof RepositoryStatus>;

export const RepositorySchema = kindObject(RepositorySpec, RepositoryStatus);
export type Repository = Static<typeof RepositorySchema>;

// ---- Snapshot -----------------------------------------------------------------------------------------

export const snapshotTypeValues = ['FullBackup', 'IncrementalBackup'] as const;
export const verificationStatusValues = ['Verified', 'NotVerified', 'VerificationFailed'] as const;

export const SnapshotSpec = Type.Object({
  appRef: o(TypedObjectReference),
  backupSession: o(str()),
  deletionPolicy: o(stringEnum(deletionPolicyValues, { default: 'Delete' })),
  paused: o(Type.Boolean()),
  repository: o(str()),
  session: o(str()),
  snapshotID: o(str()),
  /** `FullBackup` or `IncrementalBackup` (no CRD enum). */
  type: o(str()),
  version: o(str()),
});
export type SnapshotSpec = Static<typeof SnapshotSpec>;

const RunStats = Type.Object({ end: o(str()), error: o(str()), start: o(str()) });

const ResticStats = Type.Object({
  progress: o(
    Type.Object({
      backupDone: o(str()),
      filesDone: o(int64()),
      percentDone: o(str()),
      secondsElapsed: o(int64()),
      speed: o(str()),
      total: o(str()),
      totalFiles: o(int64()),
    }),
  ),
  summary: o(
    Type.Object({
      endTime: o(dateTime()),
      hostPath: o(str()),
      id: o(str()),
      size: o(str()),
      startTime: o(dateTime()),
      uploaded: o(str()),
    }),
  ),
});

export const SnapshotComponent = Type.Object({
  clickHouseStats: o(
    Type.Array(
      Type.Object({
        finishTime: o(dateTime()),
        host: o(str()),
        id: o(str()),
        startTime: o(dateTime()),
        status: o(str()),
      }),
    ),
  ),
  driver: o(stringEnum(driverValues)),
  duration: o(str()),
  error: o(str()),
  integrity: o(Type.Boolean()),
  logStats: o(
    Type.Object({
      end: o(str()),
      lastFailedStats: o(Type.Array(RunStats)),
      lastLogRetentionStats: o(
        Type.Array(
          Type.Object({
            deletedLogCount: o(int64()),
            error: o(str()),
            lastExecutionTime: o(str()),
            retentionPeriodApplied: o(str()),
          }),
        ),
      ),
      lastSucceededStats: o(Type.Array(RunStats)),
      lsn: o(str()),
      start: o(str()),
      totalFailedCount: o(int64()),
      totalSucceededCount: o(int64()),
    }),
  ),
  medusaStats: o(
    Type.Object({
      backupName: o(str()),
      backupNodes: o(Type.Array(str())),
      finishTime: o(str()),
      startTime: o(str()),
      status: o(str()),
    }),
  ),
  neo4jStats: o(
    Type.Array(
      Type.Object({
        compressed: o(Type.Boolean()),
        database: o(str()),
        databaseID: o(str()),
        file: o(str()),
        full: o(Type.Boolean()),
        highestTX: o(int64()),
        lowestTX: o(int64()),
        recovered: o(Type.Boolean()),
        storeIDHash: o(str()),
        time: o(str()),
      }),
    ),
  ),
  path: o(str()),
  phase: o(stringEnum(workPhaseValues)),
  resticStats: o(Type.Array(ResticStats)),
  size: o(str()),
  solrStats: o(
    Type.Array(
      Type.Object({
        backupId: o(Type.Integer()),
        backupName: o(str()),
        collection: o(str()),
        indexFileCount: o(Type.Integer()),
        indexSizeMB: o(double()),
        location: o(str()),
        startTime: o(str()),
        uploadedIndexFileMB: o(double()),
      }),
    ),
  ),
  volumeSnapshotterStats: o(
    Type.Array(
      Type.Object({
        hostPath: o(str()),
        pvcName: o(str()),
        volumeSnapshotName: o(str()),
        volumeSnapshotTime: o(dateTime()),
      }),
    ),
  ),
  walGStats: o(
    Type.Object({
      databases: o(Type.Array(str())),
      id: o(str()),
      startTime: o(dateTime()),
      stopTime: o(dateTime()),
    }),
  ),
});
export type SnapshotComponent = Static<typeof SnapshotComponent>;

export const SnapshotStatus = Type.Object({
  components: o(mapOf(SnapshotComponent, { 'x-kubernetes-map-type': 'granular' })),
  conditions: o(conditionList()),
  integrity: o(Type.Boolean()),
  lastUpdateTime: o(dateTime()),
  phase: o(stringEnum(workPhaseValues)),
  size: o(str()),
  snapshotTime: o(dateTime()),
  totalComponents: o(int32()),
  verificationSession: o(str()),
  verificationStatus: o(stringEnum(verificationStatusValues)),
});
export type SnapshotStatus = Static<typeof SnapshotStatus>;

export const SnapshotSchema = kindObject(SnapshotSpec, SnapshotStatus);
export type Snapshot = Static<typeof SnapshotSchema>;

// ---- RetentionPolicy ----------------------------------------------------------------------------------

export const SuccessfulSnapshotsKeepPolicy = Type.Object({
  daily: o(int32()),
  hourly: o(int32()),
  last: o(int32()),
  monthly: o(int32()),
  weekly: o(int32()),
  yearly: o(int32()),
});
export type SuccessfulSnapshotsKeepPolicy = Static<typeof SuccessfulSnapshotsKeepPolicy>;

export const FailedSnapshotsKeepPolicy = Type.Object({ last: o(int32({ default: 1 })) });
export type FailedSnapshotsKeepPolicy = Static<typeof FailedSnapshotsKeepPolicy>;

export const RetentionPolicySpec = Type.Object({
  default: o(Type.Boolean()),
  failedSnapshots: o(FailedSnapshotsKeepPolicy),
  maxRetentionPeriod: o(str()),
  successfulSnapshots: o(SuccessfulSnapshotsKeepPolicy),
  usagePolicy: o(UsagePolicy),
});
export type RetentionPolicySpec = Static<typeof RetentionPolicySpec>;

export const RetentionPolicySchema = kindObject(RetentionPolicySpec);
export type RetentionPolicy = Static<typeof RetentionPolicySchema>;
