using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;

namespace DrWeb.Server.Training;

/// <summary>
/// The last step of a run, in one transaction: the model folder moved into the registry under a unique name, its
/// version row with the evaluation (and gallery cases), the active model's evaluation on the same images, and the
/// run's outcome. A run that is cancelled or fails before this never leaves a model behind.
/// </summary>
public sealed class TrainedModelRegistration(ModelRegistry registry, DataFolder data)
{
    /// <summary>Where a run builds its model folder before registration (inside the models folder, so the move is a rename).</summary>
    public string StagingFolder(Guid runId) => Path.Combine(registry.ModelsFolder, ".building-" + runId.ToString("N"));

    /// <returns>The registered model's name.</returns>
    public string Register(DrWebDbContext db, TrainingRun run, WrittenModel written, TrainingResult result, ModelEvaluation evaluation,
        ModelEvaluation? incumbent)
    {
        string name = registry.UniqueModelName(run.Name);
        string folder = Path.Combine(registry.ModelsFolder, name);
        Directory.Move(StagingFolder(run.Id), folder);
        var version = ModelRegistry.FromManifest(name, Path.GetRelativePath(data.Root, folder), ModelSource.Trained, written.Manifest);
        version.TrainingRunId = run.Id;
        db.ModelVersions.Add(version);
        evaluation.ModelVersionId = version.Id;
        db.ModelEvaluations.Add(evaluation);
        if (incumbent is not null) db.ModelEvaluations.Add(incumbent);
        run.ModelVersionId = version.Id;
        run.BestEpoch = result.BestEpoch;
        run.BestKappa = result.BestValidation.QuadraticWeightedKappa;
        run.BestReferableAuc = double.IsFinite(result.BestValidation.Referable.RocAuc) ? result.BestValidation.Referable.RocAuc : null;
        run.TrainingSeconds += result.Duration.TotalSeconds;
        run.Device = result.Device;
        run.Status = TrainingRunStatus.Succeeded;
        run.Phase = $"done: model {name} registered";
        run.FinishedUtc = DateTimeOffset.UtcNow;
        run.EtaSeconds = 0;
        db.SaveChanges();
        return name;
    }
}
