using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Tests.Support;

/// <summary>
/// Known evaluation rows, written into an app database, so that gallery figures can be computed by hand. Each row is
/// (true grade, predicted grade, confidence of the prediction); the rest of the probability is spread evenly.
/// </summary>
public static class GallerySeed
{
    /// <summary>
    /// 40 cases. By true grade: 0: 10 right, 2 called 2; 1: 4 right, 2 called 0, 2 called 3; 2: 5 right, 3 called 0,
    /// 1 called 4; 3: 2 right, 4 called 0, 1 called 2; 4: 3 right, 1 called 1. So 24 correct, 16 wrong, 8 missed
    /// disease (grade 2-4 called 0-1) and 4 false alarms (grade 0-1 called 2-4).
    /// </summary>
    public static readonly (int True, int Predicted, float Confidence)[] Rows =
    [
        .. Enumerable.Range(0, 10).Select(i => (0, 0, 0.50f + i * 0.04f)),
        .. Enumerable.Range(0, 4).Select(i => (1, 1, 0.45f + i * 0.05f)), (1, 0, 0.70f), (1, 0, 0.40f),
        .. Enumerable.Range(0, 5).Select(i => (2, 2, 0.50f + i * 0.05f)), (2, 0, 0.66f), (2, 0, 0.55f), (2, 0, 0.35f), (2, 4, 0.52f),
        (3, 3, 0.60f), (3, 3, 0.48f), (3, 0, 0.91f), (3, 0, 0.82f), (3, 0, 0.64f), (3, 0, 0.30f), (3, 2, 0.58f),
        (4, 4, 0.80f), (4, 4, 0.75f), (4, 4, 0.61f), (4, 1, 0.44f),
        (0, 2, 0.62f), (0, 2, 0.38f), (1, 3, 0.51f), (1, 3, 0.49f),
    ];

    public static float[] Probabilities(int predicted, float confidence)
    {
        var p = Enumerable.Repeat((1 - confidence) / 4, 5).ToArray();
        p[predicted] = confidence;
        return p;
    }

    /// <summary>Writes a model version, its evaluation and <see cref="Rows"/> (all showing one real photograph); returns the evaluation id.</summary>
    public static async Task<Guid> WriteAsync(IDbContextFactory<DrWebDbContext> dbFactory, IImageStore store, string modelName = "seeded-model",
        string fingerprint = "seeded", IReadOnlyList<(int True, int Predicted, float Confidence)>? rows = null)
    {
        rows ??= Rows;
        string photo = store.Save(File.ReadAllBytes(SharedData.FundusDevImage()));
        await using var db = await dbFactory.CreateDbContextAsync();
        var version = new ModelVersion
        {
            Name = modelName, Location = $"models/{modelName}", Source = ModelSource.Trained, Architecture = "resnet18", Head = "Paper",
            TrainablePolicy = "paper", Preprocessing = "224 px",
        };
        var evaluation = new ModelEvaluation
        {
            ModelVersionId = version.Id, Name = "validation split", DataFingerprint = fingerprint, Images = rows.Count, ReportJson = "{}",
            Cases = rows.Select((r, i) =>
            {
                var p = Probabilities(r.Predicted, r.Confidence);
                return new EvaluationCase
                {
                    ImageId = $"{1000 + i}_{(i % 2 == 0 ? "left" : "right")}", ImageHash = photo, PatientId = $"{1000 + i}",
                    TrueGrade = r.True, PredictedGrade = r.Predicted, P0 = p[0], P1 = p[1], P2 = p[2], P3 = p[3], P4 = p[4],
                    HeatmapPredictedHash = photo, HeatmapTrueHash = photo, CamLayer = "layer4.2",
                };
            }).ToList(),
        };
        db.ModelVersions.Add(version);
        db.ModelEvaluations.Add(evaluation);
        await db.SaveChangesAsync();
        return evaluation.Id;
    }
}
