using DrWeb.Server.Cli;

namespace DrWeb.Tests.Support;

/// <summary>Runs a DrWeb verb in-process and captures what it prints.</summary>
public static class CliRunner
{
    public static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        TorchSetup.Ensure();
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await DrWebCommandLine.InvokeAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
