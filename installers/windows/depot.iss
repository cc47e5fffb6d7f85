; Inno Setup script for Depot on Windows (per-user install, no administrator rights needed).
;   1. on Windows: pip install pyinstaller && pyinstaller installers\depot.spec --noconfirm ^
;        --distpath build\pyinstaller\dist --workpath build\pyinstaller\work
;      (gives build\pyinstaller\dist\depot\ with depot.exe and depot-cli.exe; see installers/README.md)
;   2. iscc /DVersion=0.1.0 installers\windows\depot.iss   -> dist\depot-setup-0.1.0.exe
; NOT BUILT on the Linux machine this was written on (no Windows, no Inno Setup there): see
; docs/install.md "Windows" for what was and was not checked.
;
; What it does: installs into %LOCALAPPDATA%\Programs\Depot, a Start-menu entry (and an optional
; desktop icon), an uninstaller in "Apps and features". Data (%LOCALAPPDATA%\Depot: the database,
; backups, logs) and settings (%APPDATA%\Depot) live outside the program folder: an upgrade replaces
; the program only, and the uninstaller leaves them unless the user says to remove them.
; An upgrade is a new setup run over the old one (same AppId): it closes a running Depot first;
; the next start backs up and upgrades an older database after asking.

#ifndef Version
  #define Version "0.1.0"
#endif
#define Bundle "..\..\build\pyinstaller\dist\depot"

[Setup]
AppId={{6F1B8C1E-5D0A-4B8E-9A51-2F7C0E3D9A10}
AppName=Depot
AppVersion={#Version}
AppPublisher=Depot
DefaultDirName={localappdata}\Programs\Depot
DefaultGroupName=Depot
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=depot-setup-{#Version}
SetupIconFile=..\..\resources\icons\depot.ico
UninstallDisplayIcon={app}\depot.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
ArchitecturesAllowed=x64compatible
CloseApplications=yes
RestartApplications=no

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; GroupDescription: "Shortcuts:"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an upgrade replaces the bundle's libraries whole (never the data: that lives in %LOCALAPPDATA%\Depot)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\Depot"; Filename: "{app}\depot.exe"; WorkingDir: "{app}"
Name: "{group}\Depot command prompt"; Filename: "{cmd}"; Parameters: "/k ""{app}\depot-cli.exe"" --help"; WorkingDir: "{userdocs}"
Name: "{group}\Uninstall Depot"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Depot"; Filename: "{app}\depot.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\depot.exe"; Description: "Start Depot now"; Flags: nowait postinstall skipifsilent

[Code]
var
  RemoveData: Boolean;

function InitializeUninstall(): Boolean;
begin
  Result := True;
  RemoveData := MsgBox('Also remove this computer''s Depot data (the branch database, its backups in the ' +
    'default folder, logs and settings)?' + #13#10#13#10 + 'Choose No to keep them (a later install finds them again). ' +
    'Backups on a network share are never touched.', mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and RemoveData then
  begin
    DelTree(ExpandConstant('{localappdata}\Depot'), True, True, True);
    DelTree(ExpandConstant('{userappdata}\Depot'), True, True, True);
  end;
end;
