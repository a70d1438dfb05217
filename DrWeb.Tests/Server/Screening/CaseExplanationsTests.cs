using DrWeb.Server.Platform;
using DrWeb.Server.Registry;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

/// <summary>Re-explaining a stored photograph, and starting explanation studies, on a real app host with the default model.</summary>
public class CaseExplanationsTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private T Service<T>() where T : notnull => factory.Services.GetRequiredService<T>();

    [Fact]
    public async Task A_stored_photograph_is_explained_again_with_another_method_and_target_and_the_map_is_cached()
    {
        _ = factory.Server;
        string hash = Service<IImageStore>().Save(File.ReadAllBytes(SharedData.FundusDevImage()));
        var explanations = Service<CaseExplanations>();

        var gradCam = await explanations.ExplainAsync(hash, "gradcam", null, "predicted");
        Assert.NotNull(gradCam);
        Assert.Equal("gradcam", gradCam.Method);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47], gradCam.OverlayPng.Take(4));
        // The same request is served from the cache: the very same result.
        Assert.Same(gradCam, await explanations.ExplainAsync(hash, "Grad-CAM", "layer4", "predicted"));

        var referable = await explanations.ExplainAsync(hash, "layercam", null, "referable");
        Assert.NotNull(referable);
        Assert.Contains("referable", referable.Description, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(gradCam.OverlayPng, referable.OverlayPng);

        var layer = await Assert.ThrowsAsync<ArgumentException>(() => explanations.ExplainAsync(hash, "gradcam", "layer9", "predicted"));
        Assert.Contains("layer4", layer.Message);
        var method = await Assert.ThrowsAsync<ArgumentException>(() => explanations.ExplainAsync(hash, "fullgrad", null, "predicted"));
        Assert.Contains("gradcam", method.Message);
        Assert.Null(await explanations.ExplainAsync(new string('0', 64), "gradcam", null, "predicted"));
    }

    [Fact]
    public async Task A_study_is_refused_on_a_folder_that_is_not_registered_and_figures_never_leave_their_folder()
    {
        _ = factory.Server;
        var studies = Service<ExplanationStudies>();
        var version = (await Service<ModelRegistry>().ListAsync()).First();
        var refused = await studies.StartAsync(version.Id, "/etc", ["gradcam"], "predicted", 1, false, "admin@drweb.test");
        Assert.False(refused.Succeeded);
        Assert.Contains("Register it on the Training page", refused.Message);
        Assert.Empty(await studies.ListAsync(version.Id));
        Assert.Null(await studies.FigurePathAsync(Guid.NewGuid(), "../../drweb.db"));
        Assert.Null(await studies.FigurePathAsync(Guid.NewGuid(), "a.png"));
    }
}
