using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DrWeb.Server.Platform;

/// <summary>Where telemetry goes (<c>DrWeb:Telemetry</c>). Nothing is exported unless one of these is set.</summary>
public sealed class TelemetryOptions
{
    /// <summary>An OTLP collector, e.g. <c>http://otel-collector:4317</c> (gRPC) or with <see cref="OtlpProtocol"/> <c>http/protobuf</c> on 4318.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> (the default) or <c>http/protobuf</c>.</summary>
    public string? OtlpProtocol { get; set; }

    /// <summary>Write metrics and traces to the console (development).</summary>
    public bool Console { get; set; }

    public bool Enabled => Console || !string.IsNullOrWhiteSpace(OtlpEndpoint);
}

/// <summary>
/// DrWeb's own metrics and traces. The instruments exist whether or not anything listens (a measurement nobody
/// listens to costs a branch); OpenTelemetry's SDK and exporters are added only when configured.
/// </summary>
public sealed class DrWebMetrics
{
    public const string MeterName = "DrWeb";

    /// <summary>The source of the screening trace: upload to stored case, with decode, quality gate, grading and storing inside.</summary>
    public static readonly ActivitySource Traces = new("DrWeb.Screening");

    public DrWebMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        Screenings = Meter.CreateCounter<long>("drweb.screenings", "{screening}", "Screenings by outcome (referable, not_referable, ungradable, rejected, busy).");
        GradingDuration = Meter.CreateHistogram<double>("drweb.grading.duration", "s", "Time the model took to grade and explain one photograph.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32] });
        TrainingEpochs = Meter.CreateCounter<long>("drweb.training.epochs", "{epoch}", "Training epochs completed on this node.");
        EpochDuration = Meter.CreateHistogram<double>("drweb.training.epoch.duration", "s", "Time one training epoch took.");
    }

    /// <summary>The screening feature reports how many uploads it holds.</summary>
    public void ObserveQueueDepth(Func<int> admitted) =>
        Meter.CreateObservableGauge("drweb.screening.queue_depth", admitted, "{upload}", "Uploads admitted and not finished (decoding, waiting or grading).");

    /// <summary>The registry reports the version this node grades with.</summary>
    public void ObserveActiveModel(Func<string> version) =>
        Meter.CreateObservableGauge("drweb.model.active", () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", version())),
            description: "The model version this node grades with (always 1; the version is the tag).");

    public Meter Meter { get; }
    public Counter<long> Screenings { get; }
    public Histogram<double> GradingDuration { get; }
    public Counter<long> TrainingEpochs { get; }
    public Histogram<double> EpochDuration { get; }
}

public static class TelemetrySetup
{
    public static IServiceCollection AddDrWebTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<DrWebMetrics>();
        var options = configuration.GetSection($"{DrWebOptions.Section}:Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!options.Enabled) return services;
        string node = configuration[$"{DrWebOptions.Section}:NodeName"] is { Length: > 0 } n ? n : Environment.MachineName;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("drweb", serviceInstanceId: node))
            .WithMetrics(m =>
            {
                m.AddMeter(DrWebMetrics.MeterName).AddAspNetCoreInstrumentation();
                if (options.Console) m.AddConsoleExporter();
                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)) m.AddOtlpExporter(o => Otlp(o, options));
            })
            .WithTracing(t =>
            {
                t.AddSource(DrWebMetrics.Traces.Name).AddAspNetCoreInstrumentation();
                if (options.Console) t.AddConsoleExporter();
                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)) t.AddOtlpExporter(o => Otlp(o, options));
            });
        return services;
    }

    private static void Otlp(OpenTelemetry.Exporter.OtlpExporterOptions o, TelemetryOptions options)
    {
        o.Endpoint = new Uri(options.OtlpEndpoint!);
        if (string.Equals(options.OtlpProtocol, "http/protobuf", StringComparison.OrdinalIgnoreCase))
            o.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
    }
}
