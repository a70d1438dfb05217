using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Torch;

namespace DrWeb.Server.Cli;

/// <summary><c>predict --weights W image...</c>: grade photographs and write heatmap overlays (Grad-CAM or another CAM method).</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var weights = new Option<FileInfo?>("--weights")
        {
            Description = "Checkpoint to grade with: a torchvision-style state dict (.pth zip or .safetensors).",
        };
        var modelDir = new Option<DirectoryInfo?>("--model")
        {
            Description = "A DrWeb model folder (model.json + weights), as written by 'train'. Replaces --weights, --arch and --head.",
        };
        var images = new Argument<FileInfo[]>("images")
        {
            Description = "Fundus photographs (JPEG, PNG, BMP, TIFF or WebP).",
            Arity = ArgumentArity.OneOrMore,
        };
        var arch = new Option<string>("--arch") { Description = "Architecture.", DefaultValueFactory = _ => "densenet121" };
        var head = new Option<string>("--head") { Description = "paper (7 Linear layers) or linear.", DefaultValueFactory = _ => "paper" };
        var camLayer = new Option<string?>("--cam-layer")
        {
            Description = "Layer to explain, e.g. features.denseblock4.denselayer16 (default) or features.denseblock4.",
        };
        var overlay = new Option<string?>("--overlay")
        {
            Description = "Where to write the heatmap overlay PNG. With several images, a folder that receives <image>.overlay.png.",
        };
        var camMethod = new Option<string>("--cam-method")
        {
            Description = $"How the heatmap is made: {string.Join(", ", CamMethods.Names)}. scorecam runs one forward pass per channel (one to three minutes at 1024 channels on 2 cores).",
            DefaultValueFactory = _ => "gradcam",
        };
        var camTarget = new Option<string>("--cam-target")
        {
            Description = "What the heatmap explains: predicted (the most likely grade), referable (P(grade >= 2)) or a grade 0-4.",
            DefaultValueFactory = _ => "predicted",
        };
        var colormap = new Option<string>("--colormap") { Description = "jet or viridis.", DefaultValueFactory = _ => "jet" };
        var imageWeight = new Option<float>("--image-weight")
        {
            Description = "Share of the photograph in the overlay blend, 0..1.",
            DefaultValueFactory = _ => new OverlayOptions().ImageWeight,
        };
        var threads = DrWebCommandLine.ThreadsOption();
        var device = DrWebCommandLine.DeviceOption();

        var command = new Command("predict", "Grade fundus photographs and explain each grade with Grad-CAM.")
        {
            weights, modelDir, images, arch, head, camLayer, camMethod, camTarget, overlay, colormap, imageWeight, threads, device,
        };
        command.SetAction((parse, _) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                return Task.FromResult(Run(
                    parse.GetValue(weights), parse.GetValue(modelDir), parse.GetValue(images)!, parse.GetValue(arch)!, parse.GetValue(head)!,
                    parse.GetValue(camLayer), CamMethods.Parse(parse.GetValue(camMethod)!), CamTarget.Parse(parse.GetValue(camTarget)!), parse.GetValue(overlay),
                    new OverlayOptions { Colormap = Colormap.Parse(parse.GetValue(colormap)!), ImageWeight = parse.GetValue(imageWeight) },
                    DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), parse.GetValue(device)), output, error));
            }
            catch (Exception e) when (e is CheckpointException or ArgumentException or TorchRuntime.TorchUnavailableException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    private static int Run(FileInfo? weights, DirectoryInfo? modelDir, FileInfo[] images, string arch, string head, string? camLayer,
        CamMethod camMethod, CamTarget camTarget, string? overlay,
        OverlayOptions overlayOptions, TorchOptions torchOptions, TextWriter output, TextWriter error)
    {
        if (overlayOptions.ImageWeight is < 0 or > 1)
            throw new ArgumentException("--image-weight must be between 0 and 1.");
        TorchRuntime.Initialize(torchOptions);
        var (model, preprocessing, referral, flipAverage, description) = ModelLoading.Load(modelDir?.FullName, weights?.FullName, arch, head);
        if (camLayer is not null && !model.CamLayers.Contains(camLayer))
        {
            string message = $"--cam-layer '{camLayer}' is not a layer of {model.Architecture}. Try {model.DefaultCamLayer}.";
            model.Dispose();
            throw new ArgumentException(message);
        }
        using var grader = new Grader(model, preprocessing, referral: referral, flipAverage: flipAverage);
        output.WriteLine($"model: {description}; {TorchRuntime.Describe()}");

        var decoder = new ImageDecoder();
        int failures = 0;
        foreach (var file in images)
        {
            try
            {
                using var image = decoder.Decode(file.FullName);
                // The same gate as screening, reported rather than enforced: the command line is for people who read it.
                using var result = Screener.Screen(image, grader, new ScreenOptions(Explain: overlay is not null, CamLayer: camLayer, Overlay: overlayOptions,
                    Method: camMethod, Target: camTarget));
                var (quality, view) = (result.Quality, result.View);
                output.WriteLine();
                output.WriteLine($"{file.Name}  ({image.Width}x{image.Height} {image.Format})");
                output.WriteLine($"  image quality: {quality.Verdict}{(quality.ReasonLines is { } why ? " - " + why.Replace('\n', ' ') : "")}");
                output.WriteLine($"  model's view: {view.Description}");
                for (int g = 0; g < DrGrade.Count; g++)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {g} {DrGrade.Names[g],-17} {result.Probabilities[g]:0.0000}{(g == result.Grade ? "  <" : "")}"));
                output.WriteLine($"  grade: {result.Grade} ({result.GradeName})");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  referable: {(result.Referable.IsReferable ? "yes" : "no")} (P(grade>=2) = {result.Referable.Probability:0.000}; rule: {result.Referable.Rule})"));
                if (overlay is not null && result.Explanations is [var cam, ..])
                {
                    string path = OverlayPath(overlay, file, images.Length);
                    File.WriteAllBytes(path, result.Overlays[0]);
                    string explained = cam.ExplainsReferable ? "P(referable)" : $"grade {cam.TargetClass}";
                    output.WriteLine($"  overlay: {path} ({cam.Method} of {explained} at {cam.Layer})");
                }
            }
            catch (ImageRejectedException e)
            {
                failures++;
                error.WriteLine($"{file.Name}: {e.Message}");
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static string OverlayPath(string overlay, FileInfo image, int imageCount)
    {
        bool single = imageCount == 1 && overlay.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        string path = single ? Path.GetFullPath(overlay) : Path.Combine(Path.GetFullPath(overlay), Path.GetFileNameWithoutExtension(image.Name) + ".overlay.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
