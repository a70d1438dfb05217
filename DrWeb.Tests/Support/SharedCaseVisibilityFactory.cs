using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Support;

/// <summary>Under Screening:CaseVisibility = all, every doctor sees every case, and opening another's is audited.</summary>
public sealed class SharedCaseVisibilityFactory : IDisposable
{
    public DrWebFactory Factory { get; } = new();

    public SharedCaseVisibilityFactory() => Factory.Settings["DrWeb:Screening:CaseVisibility"] = "all";

    public void Dispose() => Factory.Dispose();
}
