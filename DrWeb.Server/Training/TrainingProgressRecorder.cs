using System.Diagnostics;
using DrWeb.Ml.Training;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Training;

/// <summary>
/// Writes a run's training events to the database: every step's loss, every epoch's validation figures, the phase,
/// the ETA and a heartbeat. Steps are written in small batches (at most about once a second) so that the database is
/// not the bottleneck; a cancel written to the run's row by another process is noticed at each write.
/// </summary>
public sealed class TrainingProgressRecorder(IDbContextFactory<DrWebDbContext> dbFactory, Guid runId, int epochs, int firstGlobalStep,
    CancellationTokenSource cancel, DrWebMetrics? metrics = null) : IProgress<TrainingEvent>
{
    private readonly List<TrainingStepLoss> _pending = [];
    private readonly Stopwatch _sinceFlush = Stopwatch.StartNew();
    private readonly Stopwatch _epochClock = Stopwatch.StartNew();
    private int _globalStep = firstGlobalStep;
    private int _epoch, _step, _stepsPerEpoch;
    private double? _lastEpochSeconds;
    private string? _phase;

    public void Report(TrainingEvent value)
    {
        switch (value)
        {
            case StepCompleted s:
                if (s.Step == 1) _epochClock.Restart();
                (_epoch, _step, _stepsPerEpoch) = (s.Epoch, s.Step, s.StepsPerEpoch);
                _pending.Add(new TrainingStepLoss { RunId = runId, Epoch = s.Epoch, Step = s.Step, GlobalStep = ++_globalStep, Loss = s.Loss });
                if (_sinceFlush.Elapsed >= TimeSpan.FromSeconds(1)) Flush();
                break;
            case EpochCompleted e:
                _lastEpochSeconds = e.Elapsed.TotalSeconds / Math.Max(1, e.Epoch);
                metrics?.TrainingEpochs.Add(1);
                metrics?.EpochDuration.Record(_epochClock.Elapsed.TotalSeconds);
                Flush(new TrainingEpochMetrics
                {
                    RunId = runId, Epoch = e.Epoch, TrainLoss = e.TrainLoss, ValidationLoss = e.ValidationLoss,
                    Kappa = e.Validation.QuadraticWeightedKappa,
                    ReferableAuc = double.IsFinite(e.Validation.Referable.RocAuc) ? e.Validation.Referable.RocAuc : null,
                    Sensitivity = e.Validation.Referable.Sensitivity.Value, Specificity = e.Validation.Referable.Specificity.Value,
                    Accuracy = e.Validation.Accuracy.Value, Seconds = e.Elapsed.TotalSeconds, Improved = e.Improved,
                }, e.EstimatedRemaining.TotalSeconds);
                break;
            case PhaseChanged p:
                _phase = p.Phase;
                Flush();
                break;
        }
    }

    public void Phase(string phase)
    {
        _phase = phase;
        Flush();
    }

    public void Flush(TrainingEpochMetrics? epoch = null, double? eta = null)
    {
        using var db = dbFactory.CreateDbContext();
        db.TrainingSteps.AddRange(_pending);
        if (epoch is not null) db.TrainingEpochs.Add(epoch);
        db.SaveChanges();
        _pending.Clear();
        _sinceFlush.Restart();

        eta ??= EstimateRemaining();
        var now = DateTimeOffset.UtcNow;
        string? phase = _phase;
        db.TrainingRuns.Where(r => r.Id == runId).ExecuteUpdate(s => s
            .SetProperty(r => r.Epoch, r => _epoch > 0 ? _epoch : r.Epoch)
            .SetProperty(r => r.Epochs, epochs)
            .SetProperty(r => r.Step, _step)
            .SetProperty(r => r.StepsPerEpoch, r => _stepsPerEpoch > 0 ? _stepsPerEpoch : r.StepsPerEpoch)
            .SetProperty(r => r.EtaSeconds, eta)
            .SetProperty(r => r.Phase, r => phase ?? r.Phase)
            .SetProperty(r => r.HeartbeatUtc, now));
        if (db.TrainingRuns.Where(r => r.Id == runId).Select(r => r.CancelRequested).FirstOrDefault())
            cancel.Cancel();
    }

    /// <summary>Time left in this epoch at the current step rate, plus the remaining epochs at the last epochs' pace.</summary>
    private double? EstimateRemaining()
    {
        if (_step == 0 || _stepsPerEpoch == 0) return null;
        double perStep = _epochClock.Elapsed.TotalSeconds / _step;
        double perEpoch = _lastEpochSeconds ?? perStep * _stepsPerEpoch * 1.15;
        return perStep * (_stepsPerEpoch - _step) + perEpoch * Math.Max(0, epochs - _epoch);
    }
}
