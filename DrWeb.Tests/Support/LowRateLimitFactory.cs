using DrWeb.Server.Accounts;
using DrWeb.Server.Hosting;

namespace DrWeb.Tests.Support;

/// <summary>A factory of its own, with low limits, so that other tests' sign-ins do not count.</summary>
public sealed class LowRateLimitFactory : IDisposable
{
    public LowRateLimitFactory()
    {
        Factory = new DrWebFactory();
        Factory.Settings["DrWeb:RateLimits:SignInPerMinute"] = "3";
        Factory.Settings["DrWeb:RateLimits:ApiPerMinute"] = "5";
    }

    public DrWebFactory Factory { get; }
    public void Dispose() => Factory.Dispose();
}
