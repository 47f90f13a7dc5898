import type { NotifyConfig } from "./notify.ts";

/** A group named in `jobs.shared_group`, resolved on this system. */
export interface SharedGroup {
  /** The group's name (its number when /etc/group does not list it). */
  name: string;
  /** The group's id. */
  gid: number;
}

/** Effective configuration: `$VPO_HOME/config.yaml` merged over the defaults. */
export interface Config {
  /** Settings of the job queue (`jobs:` in config.yaml). */
  jobs: {
    /** Days a finished job is kept before auto-purge / cleanup removes it. */
    retentionDays: number;
    /** Purge finished jobs older than retentionDays when a worker starts. */
    autoPurge: boolean;
    /** Directory for temporary transcode output; null means beside the source. */
    tempDirectory: string | null;
    /** Keep the original as `<name>.original` after a successful replace. */
    backupOriginal: boolean;
    /**
     * Seconds of media per segment of a resumable segmented encode; sources shorter than two
     * segments are encoded in one pass; null turns segmenting off.
     */
    segmentLength: number | null;
    /** The group whose members' workers share this queue; null for a private queue. */
    sharedGroup: SharedGroup | null;
  };
  /** Worker settings (`worker:` in config.yaml); `vpo start` options override the limits. */
  worker: {
    /** Stop a worker once this many jobs have finished (completed or failed); null for no limit. */
    maxFiles: number | null;
    /** Seconds. */
    maxDuration: number | null;
    /** Local wall-clock time "HH:MM" (24 h). */
    endBy: string | null;
    /** CPU cores ffmpeg may use (thread count and taskset pinning); null for no limit. */
    cpuCores: number | null;
    /** Worker loops one `vpo jobs start` runs, on disjoint cores; "auto" chooses from the machine. */
    workers: number | "auto";
    /** Help with the segments of running jobs before claiming queued jobs. */
    preferSegments: boolean;
    /** Seconds between heartbeats of a running job. */
    heartbeatInterval: number;
    /** Seconds without heartbeat after which a running job is stale. */
    staleAfter: number;
  };
  /** `vpo serve` settings (`serve:` in config.yaml); its flags override them. */
  serve: {
    /** `HOST:PORT` to listen on. */
    listen: string;
    /** File holding the access token; null for none (read-only, loopback only). */
    tokenFile: string | null;
    /** Policy files the page's "queue this folder" offers. */
    policies: string[];
    /** Folders the page's "queue this folder" offers. */
    folders: string[];
  };
  /** Notifications of failed jobs and worker runs (`notify:` in config.yaml). */
  notify: NotifyConfig;
  /** How `vpo transcode` treats a library (`library:` in config.yaml). */
  library: {
    /** A file modified less than this many seconds ago is still arriving and not queued yet. */
    settleSeconds: number;
  };
}
