# gr_make_tray_bundle(TARGET): on Apple, makes the tray executable a proper .app bundle —
# packaging/macos/Info.plist.in (LSUIElement: a menu-bar app without a Dock icon), the bundle
# identifier io.github.ghostrunner.tray, the version, and ghost-runner.icns built from
# resources/icons/*.png with iconutil. Elsewhere it does nothing.
#
# packaging/CPackConfig.cmake calls it for ghost-runner-tray. The tray's own CMakeLists.txt may
# call it instead, right after add_executable:
#     include(${PROJECT_SOURCE_DIR}/packaging/macos/TrayBundle.cmake)
#     gr_make_tray_bundle(ghost-runner-tray)
# A second call is a no-op. Deploying Qt into the bundle (macdeployqt) is a step after the build:
# see packaging/README.md.
include_guard(GLOBAL)
set(GR_MACOS_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

function(gr_make_tray_bundle target)
    if(NOT APPLE OR NOT TARGET ${target})
        return()
    endif()
    get_target_property(_done ${target} GR_TRAY_BUNDLE)
    if(_done)
        return()
    endif()

    # iconutil wants an .iconset directory with these exact names (@2x = twice the pixels).
    set(_icons ${PROJECT_SOURCE_DIR}/resources/icons)
    set(_iconset ${CMAKE_BINARY_DIR}/packaging/ghost-runner.iconset)
    set(_icns ${CMAKE_BINARY_DIR}/packaging/ghost-runner.icns)
    file(MAKE_DIRECTORY ${_iconset})
    foreach(_pair 16:icon_16x16 32:icon_16x16@2x 32:icon_32x32 64:icon_32x32@2x
                  128:icon_128x128 256:icon_128x128@2x 256:icon_256x256 512:icon_256x256@2x
                  512:icon_512x512 1024:icon_512x512@2x)
        string(REPLACE ":" ";" _p ${_pair})
        list(GET _p 0 _px)
        list(GET _p 1 _name)
        configure_file(${_icons}/ghost-runner-${_px}.png ${_iconset}/${_name}.png COPYONLY)
    endforeach()
    find_program(GR_ICONUTIL iconutil)
    if(GR_ICONUTIL)
        # At configure time, so the file exists before any target uses it, whichever directory
        # this is called from (a custom command would only attach to targets in this directory).
        execute_process(COMMAND ${GR_ICONUTIL} -c icns -o ${_icns} ${_iconset}
                        RESULT_VARIABLE _rc)
        if(NOT _rc EQUAL 0)
            message(WARNING "iconutil failed (${_rc}): the tray bundle gets no icon")
        endif()
    else()
        message(WARNING "iconutil not found: the tray bundle gets no icon")
    endif()
    if(EXISTS ${_icns})
        target_sources(${target} PRIVATE ${_icns})
        set_source_files_properties(${_icns} TARGET_DIRECTORY ${target}
                                    PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
    endif()

    set_target_properties(${target} PROPERTIES
        MACOSX_BUNDLE TRUE
        MACOSX_BUNDLE_INFO_PLIST ${GR_MACOS_PACKAGING_DIR}/Info.plist.in
        MACOSX_BUNDLE_GUI_IDENTIFIER io.github.ghostrunner.tray
        MACOSX_BUNDLE_BUNDLE_NAME "Ghost Runner"
        MACOSX_BUNDLE_ICON_FILE ghost-runner.icns
        MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION}
        MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION}
        MACOSX_BUNDLE_COPYRIGHT "The Ghost Runner developers; GPL-3.0-or-later"
        XCODE_ATTRIBUTE_PRODUCT_BUNDLE_IDENTIFIER io.github.ghostrunner.tray
        GR_TRAY_BUNDLE TRUE)
endfunction()
