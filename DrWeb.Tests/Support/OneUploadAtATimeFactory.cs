using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using DrWeb.Server.Accounts;
using DrWeb.Server.Screening;
using DrWeb.Server.Platform;

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
