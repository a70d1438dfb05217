using System.CommandLine;
using DrWeb.Ml.Torch;
using DrWeb.Server.Platform;

namespace DrWeb.Server.Cli;

/// <summary>
/// The command-line verbs of the DrWeb executable. Without a verb (or with ASP.NET options such as --urls) the
/// executable serves the web app instead.
/// </summary>
public static class DrWebCommandLine
{
    private static readonly string[] Verbs = ["predict", "train", "evaluate", "calibrate", "ensemble", "explain-study", "bench", "bench-api", "bench-burst", "issue-token", "migrate", "bench-db", "serve"];
    private static readonly string[] HelpTokens = ["--help", "-h", "-?", "--version"];

    public static bool IsCommandLine(string[] args) =>
        args.Length > 0 && (Verbs.Contains(args[0]) && args[0] != "serve" || HelpTokens.Contains(args[0]));

    /// <summary>Arguments for the web host: everything after an explicit <c>serve</c>, or all of them.</summary>
    public static string[] WebArguments(string[] args) => args.Length > 0 && args[0] == "serve" ? args[1..] : args;

    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var root = new RootCommand(
            "DrWeb: diabetic retinopathy grading and Grad-CAM (DenseNet121, ResNet101, VGG16 or the bundled ResNet18; the default model is a ResNet18).\n" +
            "Run without a verb (or with 'serve') to start the web app.")
        {
            PredictCommand.Create(),
            TrainCommand.Create(),
            EvaluateCommand.Create(),
            CalibrateCommand.Create(),
            EnsembleCommand.Create(),
            ExplainStudyCommand.Create(),
            BenchCommand.Create(),
            ApiBenchCommand.Create(),
            BurstBenchCommand.Create(),
            IssueTokenCommand.Create(),
            MigrateCommand.Create(),
            DatabaseBenchCommand.Create(),
            new Command("serve", "Start the web app (the default when no verb is given). ASP.NET options such as --urls follow."),
        };
        var config = new InvocationConfiguration();
        if (output is not null) config.Output = output;
        if (error is not null) config.Error = error;
        return root.Parse(args).InvokeAsync(config);
    }

    /// <summary>The app's configuration as the web app would read it: appsettings.json beside the executable, then the environment.</summary>
    internal static IConfiguration ConfigurationFromAppFolder() => new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .Build();

    internal static DrWebOptions SettingsFromAppFolder() =>
        ConfigurationFromAppFolder().GetSection(DrWebOptions.Section).Get<DrWebOptions>() ?? new DrWebOptions();

    /// <summary>Torch settings from appsettings.json next to the executable, overridable per command.</summary>
    internal static TorchOptions TorchOptionsFromSettings(int? threads, string? device)
    {
        var options = SettingsFromAppFolder();
        if (threads is > 0) options.Torch.Threads = threads.Value;
        if (!string.IsNullOrWhiteSpace(device)) options.Torch.Device = device;
        return options.Torch;
    }

    internal static Option<int?> ThreadsOption() => new("--threads")
    {
        Description = "Torch intra-op threads (default: DrWeb:Torch:Threads; 0 = one per core less one).",
    };

    internal static Option<string?> DeviceOption() => new("--device")
    {
        Description = "auto, cpu, cuda or cuda:N (default: DrWeb:Torch:Device).",
    };
}
