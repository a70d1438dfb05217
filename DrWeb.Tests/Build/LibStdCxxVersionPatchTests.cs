using DrWeb.Build;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Build;

/// <summary>The build-time fix that lets TorchSharp load on Debian 12 (see build/LibStdCxxVersionPatch.cs).</summary>
public class LibStdCxxVersionPatchTests
{
    private static string PristineLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                          ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp's native library was expected at {path}");
        return path;
    }

    [Fact]
    public void Marks_only_the_marker_version_weak_and_is_idempotent()
    {
        byte[] original = File.ReadAllBytes(PristineLibrary());
        byte[] image = (byte[])original.Clone();

        Assert.Equal(LibStdCxxVersionPatch.Outcome.Patched, LibStdCxxVersionPatch.Patch(image));
        var changed = Enumerable.Range(0, image.Length).Where(i => image[i] != original[i]).ToList();
        Assert.Single(changed); // one flag byte (VER_FLG_WEAK = 0x2) in one Vernaux entry
        Assert.Equal(original[changed[0]] | 0x2, image[changed[0]]);

        Assert.Equal(LibStdCxxVersionPatch.Outcome.AlreadyWeak, LibStdCxxVersionPatch.Patch(image));
    }

    [Fact]
    public void Leaves_the_file_alone_when_the_system_libstdcxx_is_new_enough()
    {
        using var tmp = SharedData.TempFolder();
        string copy = tmp.File("libLibTorchSharp.so");
        File.Copy(PristineLibrary(), copy);
        byte[] before = File.ReadAllBytes(copy);

        var outcome = LibStdCxxVersionPatch.PatchFile(copy, systemProvidesVersion: _ => true);

        Assert.Equal(LibStdCxxVersionPatch.Outcome.SystemHasVersion, outcome);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Fact]
    public void Patches_a_file_in_place_through_a_rename()
    {
        using var tmp = SharedData.TempFolder();
        string copy = tmp.File("libLibTorchSharp.so");
        File.Copy(PristineLibrary(), copy);

        Assert.Equal(LibStdCxxVersionPatch.Outcome.Patched, LibStdCxxVersionPatch.PatchFile(copy, systemProvidesVersion: _ => false));
        Assert.Equal(LibStdCxxVersionPatch.Outcome.AlreadyWeak, LibStdCxxVersionPatch.Patch(File.ReadAllBytes(copy)));
        Assert.Equal(["libLibTorchSharp.so"], Directory.GetFiles(tmp.Path).Select(f => Path.GetFileName(f)!).ToArray()); // no temp left
    }

    [Fact]
    public void Build_output_copy_is_patched_when_this_system_needs_it_and_the_cache_is_untouched()
    {
        string built = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        var expected = LibStdCxxVersionPatch.SystemLibStdCxxProvides(LibStdCxxVersionPatch.MarkerVersion)
            ? LibStdCxxVersionPatch.Outcome.Patched // untouched: patching it now would still succeed
            : LibStdCxxVersionPatch.Outcome.AlreadyWeak;
        Assert.Equal(expected, LibStdCxxVersionPatch.Patch(File.ReadAllBytes(built)));
        Assert.Equal(LibStdCxxVersionPatch.Outcome.Patched, LibStdCxxVersionPatch.Patch(File.ReadAllBytes(PristineLibrary())));
    }

    [Fact]
    public void Ignores_files_that_are_not_elf()
    {
        Assert.Equal(LibStdCxxVersionPatch.Outcome.NotElf, LibStdCxxVersionPatch.Patch("not a library"u8.ToArray()));
    }
}
