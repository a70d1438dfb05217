using System.Text.RegularExpressions;
using DrWeb.Server.Accounts;
using DrWeb.Server.Hosting;
using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Support;

/// <summary>The real app in a test host, with its data folder in a temporary directory that is removed afterwards.</summary>
public sealed class DrWebFactory : WebApplicationFactory<Program>
{
    private readonly TempFolder _data = new();
    private readonly TestDatabase? _postgres;

    public DrWebFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    /// <summary>The app on <paramref name="provider"/>: SQLite in the data folder, or a new database on the test PostgreSQL.</summary>
    public static DrWebFactory On(DatabaseProvider provider) => new(provider);

    private DrWebFactory(DatabaseProvider provider)
    {
        TorchSetup.Ensure();
        Provider = provider;
        if (provider == DatabaseProvider.Postgres) _postgres = TestPostgres.CreateDatabase();
    }

    public DatabaseProvider Provider { get; }

    public string DataFolder => _data.Path;

    public Dictionary<string, string?> Settings { get; } = [];

    public const string AdminEmail = "admin@drweb.test", Password = "correct-horse-battery";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DrWeb:DataFolder"] = _data.Path,
            ["DrWeb:Admin:Email"] = AdminEmail,
            ["DrWeb:Admin:Password"] = Password,
            // Tests sign in far more often than people; the limits themselves are tested with their own settings.
            ["DrWeb:RateLimits:SignInPerMinute"] = "100000",
            ["DrWeb:RateLimits:ApiPerMinute"] = "100000",
        };
        if (_postgres is not null)
        {
            settings["DrWeb:Database:Provider"] = "postgres";
            settings["ConnectionStrings:DrWeb"] = _postgres.ConnectionString;
        }
        foreach (var (key, value) in Settings) settings[key] = value;
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(settings));
    }

    /// <summary>A client signed in as a (new) user with the given role, through the real login form.</summary>
    public async Task<HttpClient> SignedInClientAsync(string role = AccountSetup.Admin)
    {
        _ = Server;
        string email = role == AccountSetup.Admin ? AdminEmail : $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@drweb.test";
        if (role != AccountSetup.Admin)
        {
            using var scope = Services.CreateScope();
            var result = await scope.ServiceProvider.GetRequiredService<AccountSetup>().CreateAsync(email, Password, role);
            if (!result.Succeeded) throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        }
        var client = CreateClient();
        var response = await SignInAsync(client, email, Password);
        if (!response.RequestMessage!.RequestUri!.AbsolutePath.Equals("/", StringComparison.Ordinal))
            throw new InvalidOperationException($"Sign-in as {role} did not reach the home page: {response.RequestMessage.RequestUri}");
        return client;
    }

    /// <summary>A new user with <paramref name="role"/> and an API token of theirs.</summary>
    public async Task<(string Secret, Guid TokenId)> ApiTokenAsync(string role)
    {
        var (_, secret, id) = await ApiUserAsync(role);
        return (secret, id);
    }

    /// <summary>A new user with <paramref name="role"/>: their e-mail, and the secret and id of an API token of theirs.</summary>
    public async Task<(string Email, string Secret, Guid TokenId)> ApiUserAsync(string role)
    {
        _ = Server;
        using var scope = Services.CreateScope();
        string email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@drweb.test";
        await scope.ServiceProvider.GetRequiredService<AccountSetup>().CreateAsync(email, Password, role);
        var user = await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<DrWeb.Server.Platform.Database.DrWebUser>>().FindByEmailAsync(email);
        var (token, secret) = await Services.GetRequiredService<ApiTokenService>().IssueAsync(AdminEmail, user!.Id, "test");
        return (email, secret, token.Id);
    }

    /// <summary>A client that sends <paramref name="secret"/> as its bearer token (none when null).</summary>
    public HttpClient ApiClient(string? secret)
    {
        var client = CreateClient();
        if (secret is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        return client;
    }

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string FormToken(string html) =>
        Regex.Match(html, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;

    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password)
    {
        string form = await client.GetStringAsync("/account/login");
        string token = FormToken(form);
        return await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _data.Dispose();
            _postgres?.Dispose();
        }
    }
}
