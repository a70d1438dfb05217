using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Screening;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Support;

/// <summary>A server that may hold one upload at a time (one grading, no queue).</summary>
public sealed class OneUploadAtATimeFactory : IDisposable
{
    public DrWebFactory Factory { get; } = new();

    public OneUploadAtATimeFactory()
    {
        Factory.Settings["DrWeb:Screening:Concurrency"] = "1";
        Factory.Settings["DrWeb:Screening:MaxQueue"] = "0";
        Factory.Settings["DrWeb:Screening:BusyRetryAfterSeconds"] = "7";
    }

    public void Dispose() => Factory.Dispose();
}
