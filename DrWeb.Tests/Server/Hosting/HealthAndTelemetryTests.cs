using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DrWeb.Tests.Server.Hosting;

public class HealthAndTelemetryTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    [Fact]
    public async Task Anyone_gets_the_status_and_only_an_admin_gets_every_check()
    {
        using var anonymous = factory.CreateClient();
        var alive = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("Healthy", await alive.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", await anonymous.GetStringAsync("/readyz"));

        using var admin = await factory.SignedInClientAsync(AccountSetup.Admin);
        using var json = JsonDocument.Parse(await admin.GetStringAsync("/readyz"));
        var checks = json.RootElement.GetProperty("checks");
        Assert.Equal(["database", "jobs", "migrations", "model", "postgres", "screening-queue"], checks.EnumerateObject().Select(c => c.Name).Order());
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetProperty("status").GetString()));
        Assert.StartsWith("grading with", checks.GetProperty("model").GetProperty("description").GetString());
        Assert.Equal(Environment.MachineName, json.RootElement.GetProperty("node").GetString());

        // A doctor is not an admin: the status only.
        using var doctor = await factory.SignedInClientAsync(AccountSetup.Doctor);
        Assert.Equal("Healthy", await doctor.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task A_node_without_the_screening_role_refuses_to_grade_and_says_why()
    {
        using var webOnly = new DrWebFactory();
        webOnly.Settings["DrWeb:Roles:0"] = "web";
        webOnly.Settings["DrWeb:NodeName"] = "front-1";
        var (secret, _) = await webOnly.ApiTokenAsync(AccountSetup.Doctor);
        using var client = webOnly.ApiClient(secret);
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"))) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", "10030_right.jpeg" },
        };
        var response = await client.PostAsync("/api/screenings", form);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("This node (front-1) does not grade", await response.Content.ReadAsStringAsync());

        using var admin = await webOnly.SignedInClientAsync(AccountSetup.Admin);
        using var json = JsonDocument.Parse(await admin.GetStringAsync("/readyz"));
        Assert.Equal("not a screening node", json.RootElement.GetProperty("checks").GetProperty("model").GetProperty("description").GetString());
        Assert.Equal(["web"], json.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public void Roles_are_read_from_a_list_or_a_comma_separated_value_and_an_unknown_role_is_refused_with_the_choices()
    {
        Assert.Equal(NodeIdentity.AllRoles.Order(), NodeIdentity.ParseRoles([]).Order());
        Assert.Equal(["training", "web"], NodeIdentity.ParseRoles(["web, Training"]).Order());
        var e = Assert.Throws<InvalidOperationException>(() => NodeIdentity.ParseRoles(["web", "gpu"]));
        Assert.Contains("'gpu'", e.Message);
        Assert.Contains("web, screening, training", e.Message);
    }

    [Fact]
    public async Task A_screening_is_counted_timed_and_traced_from_the_request_to_the_stored_case()
    {
        var meterFactory = factory.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentBag<(string Instrument, double Value, string? Tag)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meterFactory && instrument.Meter.Name == DrWebMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Add((i.Name, v, Tag(tags))));
        meters.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Add((i.Name, v, Tag(tags))));
        meters.SetMeasurementEventCallback<int>((i, v, tags, _) => measurements.Add((i.Name, v, Tag(tags))));
        meters.Start();
        var activities = new ConcurrentBag<Activity>();
        using var traces = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "DrWeb.Screening" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(traces);

        var (secret, _) = await factory.ApiTokenAsync(AccountSetup.Doctor);
        using var client = factory.ApiClient(secret);
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"))) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", "10030_right.jpeg" },
        };
        var response = await client.PostAsync("/api/screenings", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = body.RootElement.GetProperty("results")[0];
        string expected = result.GetProperty("referable").GetBoolean() ? "referable" : "not_referable";
        meters.RecordObservableInstruments();

        Assert.Contains(measurements, m => m.Instrument == "drweb.screenings" && m.Value == 1 && m.Tag == expected);
        Assert.Contains(measurements, m => m.Instrument == "drweb.grading.duration" && m.Value > 0 && m.Tag == result.GetProperty("modelVersion").GetString());
        Assert.Contains(measurements, m => m.Instrument == "drweb.screening.queue_depth" && m.Value == 0);
        Assert.Contains(measurements, m => m.Instrument == "drweb.model.active" && m.Tag == result.GetProperty("modelVersion").GetString());

        string caseId = result.GetProperty("caseId").GetString()!;
        var screening = Assert.Single(activities, a => a.OperationName == "screening" && (string?)a.GetTagItem("drweb.case_id") == caseId);
        var request = Assert.Single(activities, a => a.Source.Name == "Microsoft.AspNetCore" && a.SpanId == screening.ParentSpanId);
        Assert.Equal(request.TraceId, screening.TraceId);
        var children = activities.Where(a => a.ParentSpanId == screening.SpanId).Select(a => a.OperationName).Order();
        Assert.Equal(["decode", "grade", "quality-gate", "store"], children);
        Assert.Equal(expected, screening.GetTagItem("drweb.outcome"));
    }

    [Fact]
    [Trait("Category", "Deployment")]
    public async Task Telemetry_is_exported_only_when_configured()
    {
        Assert.Null(factory.Services.GetService<MeterProvider>());
        Assert.Null(factory.Services.GetService<TracerProvider>());

        // A real server with the console exporter: a screening's trace and DrWeb's metrics appear in its output.
        await using var server = await ServerProcess.StartAsync(environment: new Dictionary<string, string>
        {
            ["DrWeb__Telemetry__Console"] = "true",
            ["DrWeb__NodeName"] = "otel-node",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        });
        using var api = await server.AdminApiClientAsync();
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"))) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", "10030_right.jpeg" },
        };
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/api/screenings", form)).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !(server.Log.Contains("drweb.grading.duration") && server.Log.Contains("drweb.screenings")))
            await Task.Delay(250);
        string log = server.Log;
        Assert.Contains("Activity.DisplayName:        screening", log);
        Assert.Contains("drweb.node: otel-node", log);
        Assert.Contains("drweb.screenings", log);
        Assert.Contains("drweb.grading.duration", log);
        // The model was loaded inside the request: that log line carries the request's scope and the node's name.
        int activated = log.IndexOf("Screening model activated", StringComparison.Ordinal);
        Assert.True(activated > 0, "The model was not loaded.");
        string around = log[Math.Max(0, activated - 600)..activated];
        Assert.Matches(@"info: DrWeb\.Server\.Registry\.ActiveModel\[\d+\]\s+=> [^\n]*RequestId:[^\n]*=> Node:otel-node", around);
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags) => tags.Length > 0 ? tags[0].Value?.ToString() : null;
}
