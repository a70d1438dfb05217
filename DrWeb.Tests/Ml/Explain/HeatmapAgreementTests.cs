using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Explain;

/// <summary>Where a heatmap falls: energy share, enrichment, pointing game and lesion AUROC; masks on the view; vessels; the sanity check.</summary>
public class HeatmapAgreementTests
{
    private const int Size = 8;

    private static float[] Cover(params (int Y, int X, float Share)[] pixels)
    {
        var cover = new float[Size * Size];
        foreach (var (y, x, share) in pixels) cover[y * Size + x] = share;
        return cover;
    }

    /// <summary>
    /// An 8 x 8 view. Column 0 is outside the fundus. Lesions: (1,2) fully, (5,5) half. Optic disc: (6,6) and (6,7).
    /// Vessels: row 3, columns 1-7. Everything else in columns 1-7 is background ((5,5) half).
    /// </summary>
    private static FundusRegions HandMadeRegions()
    {
        var lesions = Cover((1, 2, 1f), (5, 5, 0.5f));
        var disc = Cover((6, 6, 1f), (6, 7, 1f));
        var vessels = Cover(Enumerable.Range(1, 7).Select(x => (3, x, 1f)).ToArray());
        var background = new float[Size * Size];
        for (int y = 0; y < Size; y++)
            for (int x = 1; x < Size; x++)
            {
                int i = y * Size + x;
                background[i] = 1 - lesions[i] - disc[i] - vessels[i];
            }
        return new FundusRegions(Size, new Dictionary<string, float[]> { ["HE"] = lesions }, lesions, disc, vessels, background);
    }

    /// <summary>Heat 1.0 at (1,1), 0.5 at (1,2) and 0.5 at (6,6): mass 2.0.</summary>
    private static HeatMap HandMadeHeatmap()
    {
        var values = new float[Size * Size];
        values[1 * Size + 1] = 1f;
        values[1 * Size + 2] = 0.5f;
        values[6 * Size + 6] = 0.5f;
        return new HeatMap(Size, Size, values);
    }

    [Fact]
    public void Energy_share_and_enrichment_on_a_hand_made_heatmap()
    {
        var agreement = HeatmapAgreement.Measure(HandMadeHeatmap(), HandMadeRegions());
        // Lesions: (0.5 x 1 + 0 x 0.5) / 2.0 = 0.25 of the mass on 1.5 of 64 pixels: enrichment 0.25 / (1.5/64) = 10.667.
        var lesions = agreement[FundusRegions.LesionRegion];
        Assert.Equal(0.25, lesions.EnergyShare, 10);
        Assert.Equal(1.5 / 64, lesions.AreaShare, 10);
        Assert.Equal(10.6667, lesions.Enrichment, 3);
        // Optic disc: 0.5 / 2.0 = 0.25 on 2/64: enrichment 8.
        Assert.Equal(0.25, agreement[FundusRegions.OpticDiscRegion].EnergyShare, 10);
        Assert.Equal(8.0, agreement[FundusRegions.OpticDiscRegion].Enrichment, 10);
        // Vessels: no heat on 7/64 of the view.
        Assert.Equal(0.0, agreement[FundusRegions.VesselRegion].EnergyShare, 10);
        Assert.Equal(7.0 / 64, agreement[FundusRegions.VesselRegion].AreaShare, 10);
        // Background: the peak's 1.0 / 2.0 = 0.5 on (56 - 1.5 - 2 - 7)/64 = 45.5/64.
        Assert.Equal(0.5, agreement[FundusRegions.BackgroundRegion].EnergyShare, 10);
        Assert.Equal(45.5 / 64, agreement[FundusRegions.BackgroundRegion].AreaShare, 10);
        // Outside: column 0, 8/64, no heat. The exclusive regions add up to the whole mass and the whole view.
        Assert.Equal(8.0 / 64, agreement[FundusRegions.OutsideRegion].AreaShare, 6);
        var exclusive = agreement.Regions.Take(5).ToList();
        Assert.Equal(1.0, exclusive.Sum(r => r.EnergyShare), 10);
        Assert.Equal(1.0, exclusive.Sum(r => r.AreaShare), 6);
        // The per-kind region follows the kind's own cover.
        Assert.Equal(0.25, agreement["HE"].EnergyShare, 10);
    }

    [Fact]
    public void Pointing_game_and_lesion_auroc_on_a_hand_made_heatmap()
    {
        var regions = HandMadeRegions();
        // The peak (1,1) is background, one pixel from the lesion at (1,2): a hit within 3 px, a miss with no tolerance.
        var agreement = HeatmapAgreement.Measure(HandMadeHeatmap(), regions);
        Assert.True(agreement.PointingHit);
        Assert.Equal(FundusRegions.BackgroundRegion, agreement.PeakRegion);
        Assert.False(HeatmapAgreement.Measure(HandMadeHeatmap(), regions, tolerance: 0).PointingHit);
        // Lesion pixels (1,2) = 0.5 and (5,5) = 0 against the 54 other fundus pixels: (1,1) = 1, (6,6) = 0.5, 52 zeros.
        // 0.5 beats 52 zeros and ties one 0.5: 52.5; 0 ties 52 zeros: 26. AUROC = 78.5 / (2 x 54) = 0.726852.
        Assert.Equal(78.5 / 108, agreement.LesionAuroc, 10);
        // Chance: fundus pixels (columns 1-7) within 3 px of a lesion. (1,2) reaches rows 0-4 x columns 1-5 = 25,
        // (5,5) rows 2-7 x columns 2-7 = 36, both rows 2-4 x columns 2-5 = 12: 49 of 56 = 0.875.
        Assert.Equal(49.0 / 56, agreement.PointingChance, 10);
    }

    [Fact]
    public void A_view_without_lesions_has_no_pointing_game()
    {
        var empty = new float[Size * Size];
        var background = Enumerable.Repeat(1f, Size * Size).ToArray();
        var regions = new FundusRegions(Size, new Dictionary<string, float[]>(), empty, empty, empty, background);
        var agreement = HeatmapAgreement.Measure(HandMadeHeatmap(), regions);
        Assert.Null(agreement.PointingHit);
        Assert.True(double.IsNaN(agreement.PointingChance));
        Assert.True(double.IsNaN(agreement.LesionAuroc));
        Assert.Throws<ArgumentException>(() => HeatmapAgreement.Measure(new HeatMap(4, 4, new float[16]), regions));
    }

    [Fact]
    public void Projecting_a_mask_onto_a_smaller_view_keeps_a_one_pixel_lesion()
    {
        // A 100 x 100 photograph stretched to a 10 px view: each view pixel covers 10 x 10 photograph pixels.
        var geometry = new ViewGeometry(10, 0, 0, 10, 10, 100, 100);
        var mask = new bool[100 * 100];
        mask[37 * 100 + 58] = true;
        var any = geometry.ProjectAny(mask);
        Assert.Equal(1, any.Count(m => m));
        Assert.True(any[3 * 10 + 5]);
        var fraction = geometry.ProjectFraction(mask);
        Assert.Equal(0.01f, fraction[3 * 10 + 5], 6);
        Assert.Equal(0.01f, fraction.Sum(), 6);

        // A crop whose square reaches 20 px past the photograph's left edge: those view columns are only partly on it.
        var crop = new ViewGeometry(10, -20, 0, 12, 10, 100, 100);
        var full = crop.ProjectFraction(Enumerable.Repeat(true, 100 * 100).ToArray());
        Assert.Equal(0f, full[0]);                 // columns -20..-8: all off the photograph
        Assert.Equal(4f / 12, full[1], 5);         // columns -8..4: 4 of 12 on it
        Assert.Equal(1f, full[5], 5);
    }

    [Fact]
    public void The_vessel_filter_finds_a_dark_line_on_a_fundus_and_little_else()
    {
        using var image = new Image<Rgb24>(400, 400, new Rgb24(0, 0, 0));
        var random = new Random(3);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    if ((x - 200) * (x - 200) + (y - 200) * (y - 200) > 190 * 190) continue;
                    byte noise = (byte)random.Next(0, 6);
                    bool vessel = Math.Abs(y - 200) <= 2;   // a 5 px wide horizontal vessel
                    row[x] = vessel ? new Rgb24(150, (byte)(60 + noise), 30) : new Rgb24(200, (byte)(110 + noise), 50);
                }
            }
        });
        var map = VesselSegmentation.Segment(image);
        int onLine = 0, lineTotal = 0, offLine = 0, fundusTotal = 0;
        for (int y = 0; y < 400; y++)
            for (int x = 60; x < 340; x++)
            {
                bool line = Math.Abs(y - 200) <= 2;
                if (line) { lineTotal++; if (map.Vessels[y * 400 + x]) onLine++; }
                else if (map.Fundus[y * 400 + x]) { fundusTotal++; if (map.Vessels[y * 400 + x]) offLine++; }
            }
        Assert.True(onLine > 0.9 * lineTotal, $"found {onLine} of {lineTotal} vessel pixels");
        Assert.True(offLine < 0.02 * fundusTotal, $"marked {offLine} of {fundusTotal} other fundus pixels");
    }

    [Fact]
    public void Rank_correlation_is_one_for_the_same_order_and_minus_one_reversed()
    {
        Assert.Equal(1.0, SanityCheck.RankCorrelation([1f, 2f, 3f, 4f], [10f, 20f, 30f, 40f]), 10);
        Assert.Equal(-1.0, SanityCheck.RankCorrelation([1f, 2f, 3f, 4f], [4f, 3f, 2f, 1f]), 10);
        Assert.True(double.IsNaN(SanityCheck.RankCorrelation([1f, 2f, 3f], [0f, 0f, 0f])));
        Assert.Equal([1.5, 1.5, 3.0], SanityCheck.Ranks([5f, 5f, 7f]));
    }

    [Fact]
    public void Randomising_the_trained_layers_changes_grad_cam_and_not_a_gradient_free_map_of_an_untouched_layer()
    {
        TorchSetup.Ensure();
        using var trained = CntkResNet18.Pretrained(HeadKind.Linear);
        using var randomised = CntkResNet18.Pretrained(HeadKind.Linear);
        trained.InitialiseHead(1);
        randomised.InitialiseHead(1);
        var policy = new TrainablePolicy("layer4 + head", ["layer4.", trained.HeadName + "."]);
        trained.ApplyTrainablePolicy(policy);
        randomised.ApplyTrainablePolicy(policy);
        trained.SetTrainingMode(false);
        Assert.True(SanityCheck.RandomiseTrainedLayers(randomised, seed: 7) > 0);
        randomised.SetTrainingMode(false);

        using var photograph = new ImageDecoder().Decode(SharedData.FundusDevImage());
        using var scope = NewDisposeScope();
        var x = ModelInput.ToTensor(photograph, ModelFactory.PreprocessingFor(trained)).unsqueeze(0);
        var before = new GradCam().Compute(trained, x, "layer4", CamTarget.ForGrade(2))[0];
        var after = new GradCam().Compute(randomised, x, "layer4", CamTarget.ForGrade(2))[0];
        double gradCam = SanityCheck.RankCorrelation(before.Map.Values, after.Map.Values);
        Assert.True(gradCam < 0.5, $"Grad-CAM's rank correlation after randomisation was {gradCam:0.000}");

        // EigenCAM at layer3 uses no gradient and nothing after layer3 was kept: it cannot notice the randomisation,
        // which is exactly what the check is there to reveal.
        var eigenBefore = new EigenCam().Compute(trained, x, "layer3", CamTarget.ForGrade(2))[0];
        var eigenAfter = new EigenCam().Compute(randomised, x, "layer3", CamTarget.ForGrade(2))[0];
        Assert.Equal(1.0, SanityCheck.RankCorrelation(eigenBefore.Map.Values, eigenAfter.Map.Values), 6);
    }

    [Fact]
    public void The_lesion_atlas_reads_the_idrid_masks_and_grades()
    {
        string folder = Path.Combine(SharedData.SharedRoot, "data", "idrid-lesions");
        var cases = LesionAtlas.Read(folder);
        Assert.Equal(81, cases.Count);
        Assert.Equal(59, cases.Count(c => c.Grade is not null));
        var first = cases[0];
        Assert.Equal("IDRiD_01", first.Id);
        Assert.Equal(2, first.Grade);
        Assert.Equal(["EX", "HE", "MA", "OD"], first.Masks.Keys.Order());
        using var empty = SharedData.TempFolder();
        var problem = Assert.Throws<DatasetException>(() => LesionAtlas.Read(empty.Path));
        Assert.Contains("masks/", problem.Message);
    }
}
