using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;

namespace DrWeb.Server.Training;

/// <summary>What a run trains on and from: its datasets read, its model built on the base weights.</summary>
/// <param name="BundledBase">Where the weights not stored with the trained model come from (the bundled ImageNet file), or null.</param>
public sealed record PreparedRun(IReadOnlyList<Dataset> Datasets, FundusClassifier Model, Preprocessing Preprocessing, string? BundledBase,
    string BaseDescription);

/// <summary>
/// Reads a run's datasets and base checkpoint as they are now and builds its model. Anything missing is a
/// <see cref="TrainingFailure"/> that says what to do.
/// </summary>
public sealed class RunInputs(ModelRegistry registry)
{
    /// <remarks>The base weights are checked first: reading the datasets takes longer.</remarks>
    public PreparedRun Prepare(DrWebDbContext db, TrainingRun run, RunSettings settings)
    {
        string? weights = null;
        if (settings.BaseCheckpointId is { } baseId)
        {
            var checkpoint = db.BaseCheckpoints.Find(baseId)
                ?? throw new TrainingFailure("The run's base checkpoint was removed from the registry. Import it again and start a new run.");
            weights = registry.Resolve(checkpoint);
            if (!File.Exists(weights))
                throw new TrainingFailure($"The base weights file {weights} is missing. Import {checkpoint.OriginalName} again on the Models page.");
        }

        var datasetRow = run.Dataset ?? throw new TrainingFailure("The run's dataset was removed. Start a new run on a registered dataset.");
        var readOptions = new DatasetReadOptions { SkipBadRows = settings.SkipBadRows };
        var datasets = new List<Dataset> { Read(datasetRow.Folder, readOptions) };
        foreach (var extraId in settings.AdditionalDatasetIds.Where(id => id != settings.DatasetId).Distinct())
        {
            var extra = db.TrainingDatasets.Find(extraId)
                ?? throw new TrainingFailure("One of the run's datasets was removed. Start a new run on registered datasets.");
            datasets.Add(Read(extra.Folder, readOptions));
        }

        var (model, bundledBase, description) = ModelFactory.CreateForFineTuning(settings.Architecture, settings.Head, weights);
        return new PreparedRun(datasets, model, ModelFactory.PreprocessingFor(model, settings.CropFundus, settings.Recipe), bundledBase, description);
    }

    private static Dataset Read(string folder, DatasetReadOptions options) => Directory.Exists(folder)
        ? DatasetReader.Read(folder, options)
        : throw new TrainingFailure($"The dataset folder {folder} no longer exists. Register the dataset again and start a new run.");
}
