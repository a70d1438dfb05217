using DrWeb.Ml.Architectures;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform;

namespace DrWeb.Server.Registry;

/// <summary>
/// The model screening grades with: loaded once and shared by all users. Activating another version loads it first and
/// then swaps it in; gradings already holding a <see cref="ModelLease"/> finish on the model they started with, which is
/// disposed only when the last of them lets go.
/// </summary>
public sealed class ActiveModel(TorchStartup engine, ILogger<ActiveModel> logger) : IDisposable
{
    public const string NoModel = "No model yet: train one or import one.";

    private readonly Lock _gate = new();
    private readonly Lock _loading = new();
    private LoadedModel? _current;
    private (string Folder, string Version, OperatingPoint? OperatingPoint)? _pending;
    private string? _problem = NoModel;

    /// <summary>The active version's display name, or empty when there is none.</summary>
    public string Version { get { EnsureLoaded(); lock (_gate) return _current?.Version ?? ""; } }

    /// <summary>Why there is no grader, or null when there is one.</summary>
    public string? Problem { get { EnsureLoaded(); lock (_gate) return _current is null ? _problem : null; } }

    public bool IsLoaded { get { EnsureLoaded(); lock (_gate) return _current is not null; } }

    /// <summary>The version loaded or named to load next, without loading it (empty when none).</summary>
    public string NamedVersion { get { lock (_gate) return _pending?.Version ?? _current?.Version ?? ""; } }

    /// <summary>
    /// Names the model to load when it is first needed. Start-up uses this so that an app that never grades (a test
    /// host, a CLI verb) never pays for loading weights.
    /// </summary>
    /// <param name="operatingPoint">An admin's operating point that replaces the manifest's; null keeps the manifest's.</param>
    public void ActivateOnFirstUse(string folder, string version, OperatingPoint? operatingPoint = null)
    {
        lock (_gate) _pending = (folder, version, operatingPoint);
    }

    /// <summary>
    /// Moves the operating point of the loaded (or pending) model named <paramref name="version"/>; gradings already
    /// decided keep the threshold they were made with.
    /// </summary>
    public void UpdateOperatingPoint(string version, OperatingPoint operatingPoint)
    {
        lock (_gate)
        {
            if (_current is { } current && current.Version == version)
                current.Grader.Referral = current.Grader.Referral with { OperatingPoint = operatingPoint };
            if (_pending is { } p && p.Version == version)
                _pending = p with { OperatingPoint = operatingPoint };
        }
    }

    /// <summary>Borrows the active model for one grading, or returns null (see <see cref="Problem"/>).</summary>
    public ModelLease? Acquire()
    {
        EnsureLoaded();
        lock (_gate)
        {
            if (_current is null) return null;
            _current.Users++;
            return new ModelLease(this, _current);
        }
    }

    /// <summary>
    /// Loads the model folder and makes it the one new gradings use. If loading fails, the previous model stays active
    /// and the exception says why.
    /// </summary>
    public void Activate(string folder, string version, OperatingPoint? operatingPoint = null)
    {
        lock (_loading)
        {
            var loaded = Load(folder, version, operatingPoint);
            Swap(loaded);
            lock (_gate) _pending = null;
        }
    }

    private LoadedModel Load(string folder, string version, OperatingPoint? operatingPoint)
    {
        if (!engine.IsReady)
            throw new InvalidOperationException($"The model engine is not running: {engine.Status}");
        var (model, manifest) = ModelDirectory.Load(folder);
        var referral = ReferralPolicy.From(manifest);
        if (operatingPoint is not null) referral = referral with { OperatingPoint = operatingPoint };
        return new LoadedModel(new Grader(model, manifest.Preprocessing, referral: referral, flipAverage: manifest.TestTimeFlip), version);
    }

    private void Swap(LoadedModel loaded)
    {
        LoadedModel? previous;
        lock (_gate)
        {
            previous = _current;
            _current = loaded;
        }
        logger.LogInformation("Screening model activated: {Version}", loaded.Version);
        if (previous is not null) Retire(previous);
    }

    private void EnsureLoaded()
    {
        lock (_gate)
            if (_pending is null) return;
        lock (_loading)
        {
            (string Folder, string Version, OperatingPoint? OperatingPoint)? pending;
            lock (_gate) pending = _pending;
            if (pending is not { } p) return;
            try
            {
                Swap(Load(p.Folder, p.Version, p.OperatingPoint));
            }
            catch (Exception e) when (e is CheckpointException or IOException or InvalidDataException or InvalidOperationException)
            {
                logger.LogError(e, "Screening model could not be loaded from {Folder}", p.Folder);
                ReportUnavailable($"The model {p.Version} could not be loaded: {e.Message}");
            }
            lock (_gate) _pending = null;
        }
    }

    /// <summary>Records why no model could be made active (shown on the screening page).</summary>
    public void ReportUnavailable(string problem)
    {
        lock (_gate) _problem = problem;
    }

    private void Retire(LoadedModel model)
    {
        bool dispose;
        lock (_gate)
        {
            model.Retired = true;
            dispose = model.Users == 0;
        }
        if (dispose) model.Grader.Dispose();
    }

    internal void Release(LoadedModel model)
    {
        bool dispose;
        lock (_gate)
        {
            model.Users--;
            dispose = model.Retired && model.Users == 0;
        }
        if (dispose) model.Grader.Dispose();
    }

    public void Dispose()
    {
        LoadedModel? current;
        lock (_gate)
        {
            current = _current;
            _current = null;
        }
        if (current is not null) Retire(current);
    }

    internal sealed class LoadedModel(Grader grader, string version)
    {
        public Grader Grader { get; } = grader;
        public string Version { get; } = version;
        public int Users { get; set; }
        public bool Retired { get; set; }
    }
}

/// <summary>One grading's hold on a model; dispose it when the grading is stored.</summary>
public sealed class ModelLease : IDisposable
{
    private readonly ActiveModel _owner;
    private readonly ActiveModel.LoadedModel _model;
    private int _released;

    internal ModelLease(ActiveModel owner, ActiveModel.LoadedModel model)
    {
        _owner = owner;
        _model = model;
    }

    public Grader Grader => _model.Grader;
    public string Version => _model.Version;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _owner.Release(_model);
    }
}
