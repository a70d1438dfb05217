using DrWeb.Ml.Imaging;
using DrWeb.Ml.Torch;
using DrWeb.Server.Hosting;

namespace DrWeb.Server.Platform;

/// <summary>Settings under the <c>DrWeb</c> section of appsettings.json (or DRWEB__* environment variables).</summary>
public sealed class DrWebOptions
{
    public const string Section = "DrWeb";

    /// <summary>
    /// Everything the app writes lives here: database, uploads, heatmaps, checkpoints, models. Relative paths are
    /// resolved against the folder the app was started from (never the build output). Deleting the folder resets the app.
    /// </summary>
    public string DataFolder { get; set; } = "data";

    /// <summary>This node's name in logs, on the Training page and in Hangfire's server list; the machine name when empty.</summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// What this node does: <c>web</c> (pages and the API), <c>screening</c> (grades uploads; loads the model at start),
    /// <c>training</c> (serves the training queue). A node without <c>training</c> never picks up a training job.
    /// </summary>
    public List<string> Roles { get; set; } = [];

    public Database.DatabaseOptions Database { get; set; } = new();

    public ClusterOptions Cluster { get; set; } = new();

    public TorchOptions Torch { get; set; } = new();

    public ImageDecodeOptions Images { get; set; } = new();

    public ScreeningOptions Screening { get; set; } = new();

    public TrainingJobOptions Training { get; set; } = new();

    public RateLimitOptions RateLimits { get; set; } = new();

    public SignInLockoutOptions SignInLockout { get; set; } = new();

    public TeachingOptions Teaching { get; set; } = new();

    public string ResolveDataFolder() => Path.GetFullPath(DataFolder);
}

/// <summary>How nodes that share one database keep in step.</summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// How often a node checks which model version is active, so that an activation on one node reaches the others.
    /// Zero turns it off; when unset it is on for PostgreSQL (several nodes) and off for SQLite (one node).
    /// </summary>
    public TimeSpan? ActivationPollInterval { get; set; }
}

/// <summary>Requests allowed per client address and minute, before a 429 with Retry-After.</summary>
public sealed class TeachingOptions
{
    /// <summary>
    /// A folder of photographs with expert lesion masks in the IDRiD layout (images/, masks/NAME_KIND.png) for the
    /// lesion teaching view and explanation studies; empty for none. DrWeb ships no such images.
    /// </summary>
    public string? LesionAtlasFolder { get; set; }
}

public sealed class RateLimitOptions
{
    /// <summary>Sign-in attempts (POSTs to the sign-in page), whatever the account.</summary>
    public int SignInPerMinute { get; set; } = 10;

    /// <summary>API requests per token (or, without one, per address).</summary>
    public int ApiPerMinute { get; set; } = 600;
}

/// <summary>When wrong passwords lock an account, for the client address they came from only.</summary>
public sealed class SignInLockoutOptions
{
    /// <summary>Wrong passwords for one account from one address, within <see cref="LockoutMinutes"/>, that lock it there.</summary>
    public int FailuresPerAddress { get; set; } = 10;

    /// <summary>How long the account stays locked for that address; also how long failures are remembered.</summary>
    public int LockoutMinutes { get; set; } = 15;
}

/// <summary>Which screening cases a Doctor sees; Admins always see all.</summary>
public enum CaseVisibility
{
    /// <summary>A Doctor sees the cases they uploaded.</summary>
    Own,

    /// <summary>Every Doctor sees every case (a small practice sharing its patients).</summary>
    All,
}

public sealed class ScreeningOptions
{
    /// <summary><c>own</c> (the default) or <c>all</c>; applies to pages, the API and the image endpoints.</summary>
    public CaseVisibility CaseVisibility { get; set; } = CaseVisibility.Own;

    /// <summary>Largest accepted upload, checked on the server before anything is decoded.</summary>
    public long MaxUploadBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Gradings that run at once. One suits 2 cores: parallel torch work only splits the same cores.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// Uploads allowed to wait beyond those grading; further ones are refused before decoding with "busy, try again"
    /// (503 with Retry-After in the API). A waiting upload still costs memory (about 11 MB each in the burst benchmark),
    /// and 16 is some 10 s of camera photographs on two cores.
    /// </summary>
    public int MaxQueue { get; set; } = 16;

    /// <summary>Seconds a refused client is told to wait (the Retry-After header).</summary>
    public int BusyRetryAfterSeconds { get; set; } = 10;

    /// <summary>
    /// Megapixels held decoded at once across all uploads; further uploads wait for room before they are decoded. An
    /// image in progress costs several times its decoded 3 bytes a pixel (the gate's and the model's copies, the
    /// overlay), so 30 (six 5-megapixel camera photos, or one 7000x7000 image on its own) keeps the server near 1 GB.
    /// </summary>
    public int DecodeBudgetMegapixels { get; set; } = 30;

    /// <summary>
    /// Above this resident size (MB), the native heaps' free memory is handed back after each grading (at most once a
    /// second); below it, only when the server falls idle. It bounds memory under sustained load at a cost in speed
    /// (see <see cref="Services.IdleMemoryTrim.AfterWork"/>); 0 turns the busy trim off.
    /// </summary>
    public int TrimAboveMegabytes { get; set; } = 1280;

    /// <summary>Largest model or checkpoint file an admin may upload to the registry (VGG16's ImageNet file is 528 MB).</summary>
    public long MaxModelUploadBytes { get; set; } = 1024L * 1024 * 1024;
}

public sealed class TrainingJobOptions
{
    /// <summary>
    /// Folders under which admins may register dataset folders by path. Relative entries resolve against the data
    /// folder; <c>datasets</c> (inside it) is always allowed and is where uploaded zips are unpacked.
    /// </summary>
    public List<string> DatasetRoots { get; set; } = [];

    /// <summary>Largest dataset zip accepted.</summary>
    public long MaxZipBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Most entries a dataset zip may have.</summary>
    public int MaxZipEntries { get; set; } = 100_000;

    /// <summary>Most bytes a dataset zip may unpack to (a zip bomb is stopped here).</summary>
    public long MaxZipUncompressedBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>Largest compression ratio allowed for one entry; images barely compress, so a high ratio is a bomb.</summary>
    public int MaxEntryCompressionRatio { get; set; } = 100;

    /// <summary>
    /// Size bound of the training view cache (<c>view-cache/</c> in the data folder), used by runs whose options ask for
    /// cached views (<c>viewsPerImage</c>).
    /// </summary>
    public long ViewCacheMaxBytes { get; set; } = Ml.Training.ViewCacheSettings.DefaultMaxBytes;

    /// <summary>Serve the training queue in this process. Off for a web node that should only schedule.</summary>
    public bool RunJobs { get; set; } = true;

    /// <summary>How often Hangfire looks for queued jobs.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After this long, a job fetched by a process that has died is handed out again. SQLite's storage has no heartbeat,
    /// so there a live job is never refetched only because one worker per server is the rule: 2 minutes when unset.
    /// PostgreSQL's storage renews a running job's fetch time in the background (a sliding invisibility timeout), so a
    /// short value is safe: 30 seconds when unset.
    /// </summary>
    public TimeSpan? RequeueAbandonedAfter { get; set; }

    public TimeSpan RequeueAbandonedAfterFor(Database.DatabaseProvider provider) =>
        RequeueAbandonedAfter ?? (provider == Database.DatabaseProvider.Postgres ? TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(2));
}

