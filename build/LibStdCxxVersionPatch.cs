// Compiled twice: as an MSBuild inline task (see Directory.Build.targets) and into DrWeb.Tests, which tests it.
// Keep it self-contained: no dependencies beyond the BCL and Microsoft.Build.Framework.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace DrWeb.Build
{
    /// <summary>
    /// libLibTorchSharp.so (TorchSharp 0.107) requires the symbol version GLIBCXX_3.4.32 only for the marker symbol
    /// std::ios_base_library_init, which GCC 13 emits without any relocation. Debian 12's libstdc++ stops at 3.4.30, so
    /// the dynamic loader refuses the library although nothing in it would ever bind to that version. Marking that one
    /// Vernaux entry VER_FLG_WEAK makes the loader tolerate its absence and changes nothing else.
    /// </summary>
    public static class LibStdCxxVersionPatch
    {
        public const string MarkerVersion = "GLIBCXX_3.4.32";
        public static readonly string[] MarkerSymbols = { "_ZSt21ios_base_library_initv" };

        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;

        public enum Outcome { Patched, AlreadyWeak, NotRequired, SystemHasVersion, UnsafeToPatch, NotElf }

        /// <summary>Patches <paramref name="path"/> in place (atomically, via a temporary file and a rename).</summary>
        public static Outcome PatchFile(string path, Func<string, bool>? systemProvidesVersion = null, Action<string>? log = null)
        {
            systemProvidesVersion ??= SystemLibStdCxxProvides;
            if (systemProvidesVersion(MarkerVersion))
                return Outcome.SystemHasVersion;

            byte[] image = File.ReadAllBytes(path);
            Outcome outcome = Patch(image, log);
            if (outcome != Outcome.Patched)
                return outcome;

            string temp = path + ".patching-" + Guid.NewGuid().ToString("N");
            try
            {
                File.WriteAllBytes(temp, image);
                // The copy in bin/ may be a hard link into the NuGet cache; a rename replaces the link, never the cache file.
                File.Replace(temp, path, null);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            return Outcome.Patched;
        }

        /// <summary>Patches an in-memory ELF64 little-endian image. Returns what was done.</summary>
        public static Outcome Patch(byte[] elf, Action<string>? log = null)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
                || elf[4] != 2 /* ELFCLASS64 */ || elf[5] != 1 /* little endian */)
                return Outcome.NotElf;

            long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            var sections = Enumerable.Range(0, shnum).Select(i => Section.Read(elf, shoff + (long)i * shentsize)).ToList();

            Section? verneed = sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
            Section? versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            Section? dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
            if (verneed is null || versym is null || dynsym is null)
                return Outcome.NotRequired;
            Section dynstr = sections[(int)verneed.Link];

            // Find the Vernaux entry for the marker version under libstdc++.
            long auxOffset = -1;
            ushort versionIndex = 0;
            long need = verneed.Offset;
            while (true)
            {
                ushort count = BitConverter.ToUInt16(elf, (int)need + 2);
                string file = ReadString(elf, dynstr.Offset + BitConverter.ToUInt32(elf, (int)need + 4));
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int i = 0; i < count; i++)
                {
                    string name = ReadString(elf, dynstr.Offset + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (file.StartsWith("libstdc++", StringComparison.Ordinal) && name == MarkerVersion)
                    {
                        auxOffset = aux;
                        versionIndex = (ushort)(BitConverter.ToUInt16(elf, (int)aux + 6) & 0x7fff);
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                if (next == 0) break;
                need += next;
            }
            if (auxOffset < 0)
                return Outcome.NotRequired;

            ushort flags = BitConverter.ToUInt16(elf, (int)auxOffset + 4);
            if ((flags & VerFlgWeak) != 0)
                return Outcome.AlreadyWeak;

            // Only safe if nothing but the marker symbol is bound to that version.
            Section symstr = sections[(int)dynsym.Link];
            long symbolCount = dynsym.Size / 24;
            var users = new List<string>();
            for (long i = 0; i < symbolCount; i++)
            {
                ushort v = (ushort)(BitConverter.ToUInt16(elf, (int)(versym.Offset + i * 2)) & 0x7fff);
                if (v != versionIndex) continue;
                users.Add(ReadString(elf, symstr.Offset + BitConverter.ToUInt32(elf, (int)(dynsym.Offset + i * 24))));
            }
            if (users.Any(u => Array.IndexOf(MarkerSymbols, u) < 0))
            {
                log?.Invoke($"{MarkerVersion} is needed by real symbols ({string.Join(", ", users)}); not patching.");
                return Outcome.UnsafeToPatch;
            }

            byte[] patched = BitConverter.GetBytes((ushort)(flags | VerFlgWeak));
            elf[auxOffset + 4] = patched[0];
            elf[auxOffset + 5] = patched[1];
            return Outcome.Patched;
        }

        /// <summary>True when the libstdc++.so.6 that the loader would find defines <paramref name="version"/>.</summary>
        public static bool SystemLibStdCxxProvides(string version)
        {
            var dirs = new List<string>();
            string? ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath)) dirs.AddRange(ldPath.Split(':'));
            dirs.AddRange(new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" });
            string? lib = dirs.Where(d => d.Length > 0).Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
            if (lib is null) return false;
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            return IndexOf(File.ReadAllBytes(lib), needle) >= 0;
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        private static string ReadString(byte[] elf, long offset)
        {
            int end = Array.IndexOf(elf, (byte)0, (int)offset);
            return Encoding.ASCII.GetString(elf, (int)offset, end - (int)offset);
        }

        private sealed class Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;

            public static Section Read(byte[] elf, long at) => new Section
            {
                Type = BitConverter.ToUInt32(elf, (int)at + 4),
                Offset = (long)BitConverter.ToUInt64(elf, (int)at + 24),
                Size = (long)BitConverter.ToUInt64(elf, (int)at + 32),
                Link = BitConverter.ToUInt32(elf, (int)at + 40),
            };
        }
    }
}

#if !DRWEB_TESTS
namespace DrWeb.Build
{
    /// <summary>MSBuild entry point: patches each given file, logging what it did.</summary>
    public sealed class PatchLibStdCxxVersion : Microsoft.Build.Framework.ITask
    {
        public Microsoft.Build.Framework.IBuildEngine BuildEngine { get; set; } = null!;
        public Microsoft.Build.Framework.ITaskHost HostObject { get; set; } = null!;

        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];

        public bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path)) continue;
                var outcome = LibStdCxxVersionPatch.PatchFile(path, log: Log);
                Log($"{Path.GetFileName(path)}: {outcome}");
            }
            return true;
        }

        private void Log(string message) => BuildEngine.LogMessageEvent(new Microsoft.Build.Framework.BuildMessageEventArgs(
            "DrWeb libstdc++ patch: " + message, null, nameof(PatchLibStdCxxVersion), Microsoft.Build.Framework.MessageImportance.Normal));
    }
}
#endif
