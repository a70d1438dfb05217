using System.Net.Http.Headers;
using System.Net.Http.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Training;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Training;

public class RunRequestTests
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static System.Text.Json.Nodes.JsonObject Body(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void A_preset_fills_the_settings_and_what_the_request_names_overrides_it()
    {
        var dataset = Guid.NewGuid();
        var request = TrainingApi.ReadRunRequest(Body($$"""{ "preset": "screening", "name": "nightly", "settings": { "datasetId": "{{dataset}}", "options": { "epochs": 1 } } }"""), Json);
        var screening = DrWeb.Ml.Training.TrainingPreset.Screening;
        Assert.Equal("nightly", request.Name);
        Assert.Equal(dataset, request.Settings.DatasetId);
        Assert.Equal(1, request.Settings.Options.Epochs);
        Assert.Equal(screening.Options.Trainable, request.Settings.Options.Trainable);
        Assert.Equal(screening.Options.LearningRate, request.Settings.Options.LearningRate);
        Assert.Equal(screening.Options.Sampler, request.Settings.Options.Sampler);
        Assert.True(request.Settings.CropFundus);
        Assert.Equal(screening.Recipe, request.Settings.Recipe);

        var plain = TrainingApi.ReadRunRequest(Body($$"""{ "settings": { "datasetId": "{{dataset}}" } }"""), Json);
        Assert.Equal("paper", plain.Settings.Options.Trainable);
        Assert.False(plain.Settings.CropFundus);

        var e = Assert.Throws<ArgumentException>(() => TrainingApi.ReadRunRequest(Body("""{ "preset": "fastest", "settings": {} }"""), Json));
        Assert.Contains("Unknown preset 'fastest'", e.Message);
    }
}
