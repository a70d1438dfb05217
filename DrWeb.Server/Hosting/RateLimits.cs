using System.Threading.RateLimiting;
using DrWeb.Server.Platform;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Hosting;

/// <summary>
/// ASP.NET Core's rate limiter on the two doors a script can hammer: sign-in attempts per client address, and API
/// requests per token (per address without one). A refused request gets 429 with <c>Retry-After</c>; under
/// <c>/api/</c> as problem details.
/// </summary>
public static class RateLimits
{
    public static void AddDrWebRateLimits(this IServiceCollection services) =>
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var limits = http.RequestServices.GetRequiredService<IOptions<DrWebOptions>>().Value.RateLimits;
                string address = http.Connection.RemoteIpAddress?.ToString() ?? "local";
                if (HttpMethods.IsPost(http.Request.Method) && http.Request.Path.StartsWithSegments("/account/login"))
                    return RateLimitPartition.GetFixedWindowLimiter("signin:" + address, _ => PerMinute(limits.SignInPerMinute));
                if (ApiProblems.IsApi(http))
                {
                    string? header = http.Request.Headers.Authorization;
                    string key = header is { Length: > 7 } ? "token:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(header)))[..16] : "api:" + address;
                    return RateLimitPartition.GetFixedWindowLimiter(key, _ => PerMinute(limits.ApiPerMinute));
                }
                return RateLimitPartition.GetNoLimiter("none");
            });
            options.OnRejected = async (context, token) =>
            {
                var http = context.HttpContext;
                int seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 60;
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: 429, title: "Too many requests",
                    detail: $"Too many requests from this client; try again in {seconds} s.").ExecuteAsync(http);
            };
        });

    private static FixedWindowRateLimiterOptions PerMinute(int permits) => new()
    {
        PermitLimit = Math.Max(1, permits), Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true,
    };
}
