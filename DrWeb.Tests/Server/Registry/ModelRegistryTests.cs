using System.Text.Json.Nodes;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Registry;

/// <summary>The model registry on a real app host: starter, import, activation while gradings run, bad imports.</summary>
public class ModelRegistryTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private ModelRegistry Registry => factory.Services.GetRequiredService<ModelRegistry>();
    private ModelImports Imports => factory.Services.GetRequiredService<ModelImports>();
    private ActiveModel Active => factory.Services.GetRequiredService<ActiveModel>();

    private static string StarterFolder => ShippedModel.Folder;

    [Fact]
    public async Task The_starter_is_registered_with_its_manifest_metrics_and_active_on_first_start()
    {
        _ = factory.Server;
        var manifest = ModelDirectory.ReadManifest(StarterFolder);
        var starter = (await Registry.ListAsync()).Single(v => v.Source == ModelSource.Starter);
        Assert.Equal("resnet18", starter.Architecture);
        Assert.Equal(manifest.DataFingerprint, starter.DataFingerprint);
        Assert.Equal(manifest.Validation!.Referable.RocAuc, starter.ReferableAuc!.Value, 9);
        Assert.Equal(manifest.Validation.QuadraticWeightedKappa, starter.Kappa!.Value, 9);
        Assert.Equal(manifest.ValidationImages, starter.ValidationImages);
        Assert.Equal("bundled:ResNet18.onnx", starter.BaseWeights);
        Assert.True(starter.IsActive);
        Assert.Single(await Registry.ListAsync(), v => v.IsActive);
    }

    [Fact]
    public async Task After_an_upgrade_ships_another_starter_its_row_describes_the_new_model_and_drops_the_old_operating_point()
    {
        _ = factory.Server;
        var manifest = ModelDirectory.ReadManifest(StarterFolder);
        var dbFactory = factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            // The row as an installation of an earlier release left it: another model's facts and an admin's point.
            var row = await db.ModelVersions.SingleAsync(v => v.Source == ModelSource.Starter);
            row.CreatedUtc = manifest.CreatedUtc.AddDays(-30);
            row.Preprocessing = "224 px, older";
            row.ReferableAuc = 0.5;
            row.OperatingPointJson = """{"Threshold":0.5}""";
            await db.SaveChangesAsync();
        }

        Registry.Start();
        Registry.Start();

        var starter = (await Registry.ListAsync()).Single(v => v.Source == ModelSource.Starter);
        Assert.Equal(manifest.CreatedUtc, starter.CreatedUtc, TimeSpan.FromSeconds(1));
        Assert.Equal(manifest.Validation!.Referable.RocAuc, starter.ReferableAuc!.Value, 9);
        Assert.Equal(ModelRegistry.FromManifest(starter.Name, starter.Location, ModelSource.Starter, manifest).Preprocessing, starter.Preprocessing);
        Assert.Null(starter.OperatingPointJson);
        var (entries, _) = await factory.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(AuditAction.StarterModelReplaced));
        var entry = Assert.Single(entries);
        Assert.Equal(starter.Name, entry.Subject);
        Assert.Contains("the operating point chosen for the old model was dropped", entry.Detail);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task An_imported_folder_can_be_activated_and_a_grading_in_flight_finishes_on_its_own_model()
    {
        _ = factory.Server;
        using var copy = new TempFolder();
        string source = Path.Combine(copy.Path, "second-opinion");
        Directory.CreateDirectory(source);
        foreach (string f in ModelDirectory.ReadManifest(StarterFolder).AllWeightsFiles.Prepend(ModelManifest.FileName))
            File.Copy(Path.Combine(StarterFolder, f), Path.Combine(source, f));

        var imported = await Imports.ImportModelFolderAsync(source);
        Assert.True(imported.Succeeded, imported.Message);
        var version = (await Registry.ListAsync()).Single(v => v.Name == "second-opinion");
        Assert.Equal(ModelSource.Imported, version.Source);
        Assert.True(File.Exists(Path.Combine(factory.DataFolder, "models", "second-opinion", "weights.safetensors")));

        var image = new ImageDecoder(new ImageDecodeOptions()).Decode(File.ReadAllBytes(SharedData.FundusDevImage()), "10007_left.jpeg");
        using var before = Active.Acquire();
        Assert.NotNull(before);
        string oldVersion = before.Version;

        var activated = await Registry.ActivateAsync(version.Id, DrWebFactory.AdminEmail);
        Assert.True(activated.Succeeded, activated.Message);
        Assert.StartsWith("second-opinion", Active.Version);
        Assert.Equal(version.Id, (await Registry.ListAsync()).Single(v => v.IsActive).Id);
        var (audited, _) = await factory.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(AuditAction.ModelActivated));
        Assert.Contains(audited, e => e.Actor == DrWebFactory.AdminEmail && e.Subject == "second-opinion");

        // The lease taken before the switch still grades, on the model it started with.
        var result = before.Grader.Grade(image, explain: false);
        Assert.Equal(1f, result.Probabilities.Values.Sum(), 3);
        Assert.Equal(oldVersion, before.Version);

        using var after = Active.Acquire();
        Assert.StartsWith("second-opinion", after!.Version);

        var screened = await factory.Services.GetRequiredService<ScreeningService>()
            .ScreenAsync(new ScreeningUpload("10007_left.jpeg", File.ReadAllBytes(SharedData.FundusDevImage())) { UploadedBy = "doctor@drweb.test" });
        Assert.True(screened.Succeeded, screened.Error);
        Assert.StartsWith("second-opinion", screened.Prediction!.ModelVersion);

        // Back to the starter, so that other tests in this class see the usual model.
        var starter = (await Registry.ListAsync()).Single(v => v.Source == ModelSource.Starter);
        Assert.True((await Registry.ActivateAsync(starter.Id, DrWebFactory.AdminEmail)).Succeeded);
        image.Dispose();
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task An_ensemble_folder_imports_activates_screens_with_an_averaged_heatmap_and_evaluate_reads_it()
    {
        _ = factory.Server;
        using var tmp = new TempFolder();
        string folder = EnsembleFolders.Ensemble(tmp.Path, 21, 22);

        var imported = await Imports.ImportModelFolderAsync(folder, "two-heads");
        Assert.True(imported.Succeeded, imported.Message);
        var version = (await Registry.ListAsync()).Single(v => v.Name == "two-heads");
        Assert.StartsWith("ensemble of 2", version.TrainablePolicy);
        Assert.True((await Registry.ActivateAsync(version.Id, DrWebFactory.AdminEmail)).Succeeded);
        try
        {
            var screened = await factory.Services.GetRequiredService<ScreeningService>()
                .ScreenAsync(new ScreeningUpload("10007_left.jpeg", File.ReadAllBytes(SharedData.FundusDevImage())) { UploadedBy = "doctor@drweb.test" });
            Assert.True(screened.Succeeded, screened.Error);
            Assert.StartsWith("two-heads", screened.Prediction!.ModelVersion);
            Assert.False(string.IsNullOrEmpty(screened.Prediction.OverlayHash));
        }
        finally
        {
            var starter = (await Registry.ListAsync()).Single(v => v.Source == ModelSource.Starter);
            Assert.True((await Registry.ActivateAsync(starter.Id, DrWebFactory.AdminEmail)).Succeeded);
        }

        var (code, output, error) = await CliRunner.Run("evaluate", "--model", folder, "--data", Path.GetDirectoryName(SharedData.FundusRawImages)!,
            "--out", tmp.File("eval"));
        Assert.True(code == 0, error);
        Assert.Contains("resnet18 ensemble of 2", output);
        Assert.Contains("ROC AUC", output);
        Assert.True(File.Exists(tmp.File(Path.Combine("eval", "metrics.json"))));
    }

    [Fact]
    public async Task A_folder_whose_weights_do_not_fit_its_manifest_is_refused_and_leaves_nothing()
    {
        _ = factory.Server;
        using var copy = new TempFolder();
        File.Copy(Path.Combine(StarterFolder, "weights.safetensors"), copy.File("weights.safetensors"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(StarterFolder, ModelManifest.FileName)))!;
        manifest["Architecture"] = "densenet121";
        manifest["BaseWeights"] = null;
        manifest["WeightsContent"] = "full";
        manifest["MoreWeightsFiles"] = new JsonArray();
        File.WriteAllText(copy.File(ModelManifest.FileName), manifest.ToJsonString());
        int before = (await Registry.ListAsync()).Count;

        var result = await Imports.ImportModelFolderAsync(copy.Path, "misfit");

        Assert.False(result.Succeeded);
        Assert.Contains("Missing", string.Join(" ", result.Details));
        Assert.Equal(before, (await Registry.ListAsync()).Count);
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(factory.DataFolder, "models")), d => Path.GetFileName(d).StartsWith(".incoming", StringComparison.Ordinal) || d.EndsWith("misfit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Uploaded_files_need_a_manifest_and_plain_names()
    {
        _ = factory.Server;
        await using var weights = File.OpenRead(Path.Combine(StarterFolder, "weights.safetensors"));
        var noManifest = await Imports.ImportModelFilesAsync([("weights.safetensors", weights)], null);
        Assert.False(noManifest.Succeeded);
        Assert.Contains("model.json", noManifest.Message);

        await using var json = new MemoryStream("{ not json"u8.ToArray());
        var badJson = await Imports.ImportModelFilesAsync([("model.json", json)], null);
        Assert.False(badJson.Succeeded);
        Assert.Contains("not a valid model manifest", badJson.Message);
        Assert.DoesNotContain(".incoming", badJson.Message);

        await using var sneaky = new MemoryStream([1, 2, 3]);
        await using var manifest = File.OpenRead(Path.Combine(StarterFolder, ModelManifest.FileName));
        var traversal = await Imports.ImportModelFilesAsync([("model.json", manifest), ("../evil.safetensors", sneaky)], null);
        Assert.False(traversal.Succeeded);
        Assert.Contains("not a plain file name", traversal.Message);
    }

    [Fact]
    public async Task Activating_a_version_that_no_longer_loads_keeps_the_active_one()
    {
        _ = factory.Server;
        string active = Active.Version;
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync())
        {
            db.ModelVersions.Add(new ModelVersion
            {
                Name = "vanished", Location = "models/vanished", Source = ModelSource.Imported, Architecture = "resnet18", Head = "Paper",
                TrainablePolicy = "paper", Preprocessing = "224 px",
            });
            await db.SaveChangesAsync();
        }
        var vanished = (await Registry.ListAsync()).Single(v => v.Name == "vanished");

        var result = await Registry.ActivateAsync(vanished.Id, DrWebFactory.AdminEmail);

        Assert.False(result.Succeeded);
        Assert.Contains("active model is unchanged", result.Message);
        Assert.Equal(active, Active.Version);
        Assert.False((await Registry.ListAsync()).Single(v => v.Name == "vanished").IsActive);
    }

    [Fact]
    public async Task A_real_pytorch_densenet_checkpoint_is_accepted_as_a_training_base_and_listed_with_the_loader_report()
    {
        _ = factory.Server;
        await using var file = File.OpenRead(Path.Combine(SharedData.ReferenceDir, "ref_state.pth"));
        var result = await Imports.ImportBaseCheckpointAsync("densenet121", "ref_state.pth", file);

        Assert.True(result.Succeeded, result.Message + string.Join(" ", result.Details));
        Assert.Contains("Loaded 739 tensors (pytorch-zip)", result.Details[0]);
        var stored = (await Registry.ListBasesAsync()).Single(b => b.OriginalName == "ref_state.pth");
        Assert.Equal("densenet121", stored.Architecture);
        Assert.Equal(new FileInfo(Path.Combine(SharedData.ReferenceDir, "ref_state.pth")).Length, stored.SizeBytes);
        Assert.True(File.Exists(Registry.Resolve(stored)));

        await using var again = File.OpenRead(Path.Combine(SharedData.ReferenceDir, "ref_state.pth"));
        var twice = await Imports.ImportBaseCheckpointAsync("densenet121", "copy.pth", again);
        Assert.Contains("already imported", twice.Message);
        Assert.Single(await Registry.ListBasesAsync(), b => b.Sha256 == stored.Sha256);
    }

    [Fact]
    public async Task An_imagenet_shaped_checkpoint_loads_without_its_1000_class_classifier()
    {
        _ = factory.Server;
        using var temp = new TempFolder();
        string path = temp.File("densenet121-imagenet.pth");
        using (var imagenet = ModelFactory.Create("densenet121", HeadKind.Linear, numClasses: 1000))
            CheckpointImporter.Save(imagenet, path);
        await using var file = File.OpenRead(path);

        var result = await Imports.ImportBaseCheckpointAsync("densenet121", "densenet121-imagenet.pth", file);

        Assert.True(result.Succeeded, result.Message);
        Assert.Contains(result.Details, d => d.Contains("classifier.weight") && d.Contains("5-grade head"));
    }

    [Fact]
    public async Task A_checkpoint_for_another_architecture_or_not_a_checkpoint_is_refused_and_not_kept()
    {
        _ = factory.Server;
        int before = (await Registry.ListBasesAsync()).Count;
        await using (var file = File.OpenRead(Path.Combine(SharedData.ReferenceDir, "ref_state.pth")))
        {
            var wrong = await Imports.ImportBaseCheckpointAsync("resnet101", "ref_state.pth", file);
            Assert.False(wrong.Succeeded);
            Assert.Contains("is not a resnet101 checkpoint", wrong.Message);
            Assert.Contains(wrong.Details, d => d.StartsWith("Missing", StringComparison.Ordinal));
        }

        await using var text = new MemoryStream("this is not a checkpoint at all"u8.ToArray());
        var junk = await Imports.ImportBaseCheckpointAsync("vgg16", "vgg16.pth", text);
        Assert.False(junk.Succeeded);
        Assert.Contains("vgg16.pth", junk.Message);
        Assert.DoesNotContain(".incoming", junk.Message);

        await using var empty = new MemoryStream();
        Assert.Contains("ResNet18", (await Imports.ImportBaseCheckpointAsync("resnet18", "r.pth", empty)).Message);
        Assert.Contains("not a checkpoint", (await Imports.ImportBaseCheckpointAsync("vgg16", "vgg16.zip", empty)).Message);

        Assert.Equal(before, (await Registry.ListBasesAsync()).Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(factory.DataFolder, "checkpoints"), ".incoming*"));
    }

    [Fact]
    public async Task The_models_page_lists_versions_for_admins_only()
    {
        using var admin = await factory.SignedInClientAsync();
        string html = await admin.GetStringAsync("/admin/models");
        Assert.Contains("Model registry", html);
        Assert.Contains("screening-resnet18", html);
        Assert.Contains(ModelVersionFormat(ModelDirectory.ReadManifest(StarterFolder).Validation!.Referable.RocAuc), html);

        using var doctor = await factory.SignedInClientAsync(AccountSetup.Doctor);
        var refused = await doctor.GetAsync("/admin/models");
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
    }

    private static string ModelVersionFormat(double value) => value.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}
