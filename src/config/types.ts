/** Effective configuration: `$VPO_HOME/config.yaml` merged over the defaults. */
export interface Config {
  jobs: {
    /** Days a finished job is kept before auto-purge / cleanup removes it. */
    retentionDays: number;
    /** Purge finished jobs older than retentionDays when a worker starts. */
    autoPurge: boolean;
    /** Directory for temporary transcode output; null means beside the source. */
    tempDirectory: string | null;
    /** Keep the original as `<name>.original` after a successful replace. */
    backupOriginal: boolean;
  };
  worker: {
    maxFiles: number | null;
    /** Seconds. */
    maxDuration: number | null;
    /** Local wall-clock time "HH:MM" (24 h). */
    endBy: string | null;
    cpuCores: number | null;
    /** Seconds between heartbeats of a running job. */
    heartbeatInterval: number;
    /** Seconds without heartbeat after which a running job is stale. */
    staleAfter: number;
  };
}
